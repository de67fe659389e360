// The helper thread of the directory writer: it writes the chunks of leaves the main thread posts it, newest first,
// each one only if it claims it before the main thread does. Same calls as the main thread (leaf-task.ts), its own
// store descriptors; it never decides a path, it only writes the ones it is given under the staging dir.
import { parentPort } from 'node:worker_threads';
import { toPlainError } from '../errors.js';
import { ContentFiles } from '../store/content.js';
import { claim, HELPER, stopped, type FromHelper, type ToHelper } from './helper-protocol.js';
import { emptyTally, writeLeafTask, type LeafWriter } from './leaf-task.js';

const port = parentPort;
if (port === null) throw new Error('leaf-worker.js runs only as a worker thread');

let writer: LeafWriter | undefined;
port.postMessage({ type: 'ready' } satisfies FromHelper);
let claims: Int32Array<ArrayBufferLike> | undefined;

port.on('message', (m: ToHelper) => {
  if (m.type === 'init') {
    writer = { base: Buffer.from(m.base), id: m.id, mask: m.mask, files: new ContentFiles(), buf: Buffer.allocUnsafe(1024 * 1024) };
    claims = new Int32Array(m.claims);
  } else if (m.type === 'chunk') {
    port.postMessage(writeChunk(m.index, m.tasks));
  } else {
    writer?.files.close();
    port.close();
  }
});

function writeChunk(index: number, tasks: Extract<ToHelper, { type: 'chunk' }>['tasks']): FromHelper {
  if (writer === undefined || claims === undefined || !claim(claims, index, HELPER)) return { type: 'declined', index };
  const tally = emptyTally();
  for (const task of tasks) {
    if (stopped(claims)) break;
    try {
      writeLeafTask(writer, task, tally);
    } catch (err) {
      return { type: 'failed', index, path: task.path, error: toPlainError(err), tally };
    }
  }
  return { type: 'done', index, tally };
}
