// Turning what the filesystem says into one line about the output the user asked for, not our staging names.
import { asStratumError, IoError, StratumError } from '../errors.js';
import { displayPath } from '../layer/names.js';

/** The path inside OUT that a failure concerns, as the user will look for it. */
export function outPath(out: string, rel: string | undefined): string {
  return rel === undefined || rel === '' ? out : `${out}/${displayPath(rel)}`;
}

export interface Progress {
  files: number;
  bytes: number;
}

/**
 * Node's error names the staging path, which is gone by the time anyone reads the message;
 * name the output path instead, and say plainly when the disk filled up.
 */
export function writeFailure(err: unknown, out: string, rel: string | undefined, done: Progress): StratumError {
  if (err instanceof StratumError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') {
    const why = e.code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded';
    return new IoError(
      `${out}: ${why} after ${done.files} files (${done.bytes} bytes); nothing was written to ${out}`,
      { file: out, path: rel, errno: e.code },
      `E_IO_${e.code}`,
      { cause: err },
    );
  }
  if (typeof e?.code !== 'string' || typeof e.syscall !== 'string') return asStratumError(err, outPath(out, rel));
  const plain = asStratumError({ code: e.code, syscall: e.syscall, path: outPath(out, rel) } as NodeJS.ErrnoException);
  return new IoError(`${plain.message} (${e.syscall})`, { ...plain.context, path: rel }, plain.code, { cause: err });
}
