// Typed errors: one base class with a stable code, a few categories callers branch on,
// and the exit code the CLI maps each to. Library code throws these; only the CLI prints.

export type ErrorCategory =
  | 'usage' // the caller asked for something malformed
  | 'format' // the input is not what it claims to be (not a tar, bad JSON, bad header)
  | 'integrity' // digests, sizes or diffIDs disagree
  | 'unsafe' // an entry tries to reach outside the image root or the output
  | 'not-found' // an image, blob, path or layer is absent
  | 'limit' // a configured limit was hit (bombs, huge headers, too many entries)
  | 'unsupported' // valid but not handled (foreign layers, unknown entry types)
  | 'io'; // the filesystem refused (disk full, permissions)

export interface ErrorContext {
  file?: string;
  path?: string;
  digest?: string;
  expected?: string | number;
  actual?: string | number;
  layer?: number;
  [key: string]: unknown;
}

const EXIT_CODES: Record<ErrorCategory, number> = {
  usage: 2,
  format: 1,
  integrity: 1,
  unsafe: 1,
  'not-found': 1,
  limit: 1,
  unsupported: 1,
  io: 1,
};

export class StratumError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly context: ErrorContext;

  constructor(category: ErrorCategory, code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StratumError';
    this.category = category;
    this.code = code;
    this.context = context;
  }

  get exitCode(): number {
    return EXIT_CODES[this.category];
  }
}

export class UsageError extends StratumError {
  constructor(message: string, context?: ErrorContext) {
    super('usage', 'E_USAGE', message, context);
  }
}

export class FormatError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_FORMAT', options?: { cause?: unknown }) {
    super('format', code, message, context, options);
  }
}

export class IntegrityError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_INTEGRITY') {
    super('integrity', code, message, context);
  }
}

export class UnsafeEntryError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_UNSAFE') {
    super('unsafe', code, message, context);
  }
}

export class NotFoundError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_NOT_FOUND') {
    super('not-found', code, message, context);
  }
}

export class LimitError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_LIMIT') {
    super('limit', code, message, context);
  }
}

export class UnsupportedError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_UNSUPPORTED') {
    super('unsupported', code, message, context);
  }
}

export class IoError extends StratumError {
  constructor(message: string, context?: ErrorContext, code = 'E_IO', options?: { cause?: unknown }) {
    super('io', code, message, context, options);
  }
}

/** Turns a Node system error (ENOSPC, EACCES, ...) into an IoError naming the file; passes ours through. */
export function asStratumError(err: unknown, file?: string): StratumError {
  if (err instanceof StratumError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const where = e.path ?? file;
    const what: Record<string, string> = {
      ENOSPC: 'no space left on device',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      ENOENT: 'no such file or directory',
      EROFS: 'read-only filesystem',
      EDQUOT: 'disk quota exceeded',
      EMFILE: 'too many open files',
      ENOTDIR: 'not a directory',
      EISDIR: 'is a directory',
    };
    return new IoError(`${where ?? e.syscall}: ${what[e.code] ?? e.code}`, { file: where, errno: e.code }, `E_IO_${e.code}`, { cause: err });
  }
  return new StratumError('io', 'E_INTERNAL', err instanceof Error ? err.message : String(err), { file }, { cause: err });
}

/** An error as plain data, to cross a thread boundary: structured clone keeps neither our classes nor errno fields. */
export interface PlainError {
  message: string;
  category?: ErrorCategory;
  code?: string;
  context?: ErrorContext;
  syscall?: string;
  errno?: number;
  path?: string;
}

export function toPlainError(err: unknown): PlainError {
  if (err instanceof StratumError) return { message: err.message, category: err.category, code: err.code, context: err.context };
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Error) return { message: e.message, code: e.code, syscall: e.syscall, errno: e.errno, path: e.path };
  return { message: String(err) };
}

const CLASSES: Record<ErrorCategory, new (message: string, context?: ErrorContext, code?: string) => StratumError> = {
  usage: UsageError,
  format: FormatError,
  integrity: IntegrityError,
  unsafe: UnsafeEntryError,
  'not-found': NotFoundError,
  limit: LimitError,
  unsupported: UnsupportedError,
  io: IoError,
};

/** The error toPlainError was given, as near as data allows: the same class, code and context, or a system error. */
export function fromPlainError(p: PlainError): Error {
  if (p.category !== undefined) return new CLASSES[p.category](p.message, p.context, p.code);
  return Object.assign(new Error(p.message), { code: p.code, syscall: p.syscall, errno: p.errno, path: p.path });
}
