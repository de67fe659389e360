// A bounded pool: keeps `limit` filesystem operations in flight, stops taking work at the first failure or abort.

/**
 * Runs `fn` over `items` with at most `limit` running at once. On the first error (or abort) no new item starts,
 * the ones in flight are awaited — so no write lands after the caller starts cleaning up — and that first error is thrown.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      if (signal?.aborted) {
        failure ??= { err: signal.reason };
        return;
      }
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failure !== undefined) throw failure.err;
}
