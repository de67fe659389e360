// Runs many small synchronous filesystem calls in time slices, so the event loop still turns between them.

/** Long enough that yielding costs nothing measurable, short enough that progress and Ctrl-C feel immediate. */
const SLICE_MS = 20;

/**
 * Calls `fn` on each item in order, yielding to the event loop every SLICE_MS and checking `signal` there, and
 * before an item whenever `wait` returns a promise for it.
 * Synchronous calls rather than a pool of promises: each fs promise is a round trip through the libuv threadpool,
 * and for the three or four tiny syscalls a file needs those handoffs cost more than the calls themselves
 * (measured: ~3x the wall time and ~10x the CPU of plain sync calls for 6,300 files). tar -x works the same way.
 */
export async function runSliced<T>(items: Iterable<T>, signal: AbortSignal | undefined, fn: (item: T) => void, wait?: (item: T) => Promise<void> | undefined): Promise<void> {
  let deadline = performance.now() + SLICE_MS;
  signal?.throwIfAborted();
  for (const item of items) {
    // What fn will need and is not there yet (a window of store bytes read ahead): the one await per item that pays.
    const pending = wait?.(item);
    if (pending !== undefined) await pending;
    fn(item);
    if (performance.now() < deadline) continue;
    await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    deadline = performance.now() + SLICE_MS;
  }
}
