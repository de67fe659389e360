// How many tasks a gate lets through at once: for locks and queues whose whole point is that number.

/**
 * Starts `n` tasks at once, each through `gate`, each holding its place for `holdMs`; returns how many ran and the
 * most that were ever running together. A task's failure is the gate's failure: it propagates.
 */
export async function crowd(n: number, gate: (task: () => Promise<void>) => Promise<unknown>, holdMs = 5): Promise<{ entered: number; most: number }> {
  let inside = 0;
  let most = 0;
  let entered = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      gate(async () => {
        most = Math.max(most, ++inside);
        entered++;
        await new Promise((r) => setTimeout(r, holdMs));
        inside--;
      }),
    ),
  );
  return { entered, most };
}
