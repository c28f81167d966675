export interface LimitOptions<T, R> {
  signal?: AbortSignal;
  onAbort: (item: T) => R;
  /** The bound applies per key (e.g. per cluster: each API server carries its own load); one key by default. */
  keyOf?: (item: T) => string;
}

/**
 * Runs `fn` over every item with at most `limit` calls in flight per key, results in input order. Calls
 * start in input order across keys, so a caller that puts its slowest items first has them running
 * earliest whichever key they belong to. Once `signal` aborts, items not yet started get `onAbort` instead
 * of a call (the ones in flight finish on their own time bound).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  options: LimitOptions<T, R>,
): Promise<R[]> {
  const keyOf = options.keyOf ?? (() => '');
  const results = new Array<R>(items.length);
  const queues = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    queues.set(key, [...(queues.get(key) ?? []), i]);
  });
  async function lane(queue: number[]): Promise<void> {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const item = items[i]!;
      results[i] = options.signal?.aborted ? options.onAbort(item) : await fn(item);
    }
  }
  // A key's lanes open as its items come up in input order; a lane takes its first item synchronously, so
  // the first wave starts in exactly that order.
  const lanes: Promise<void>[] = [];
  const opened = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    const n = opened.get(key) ?? 0;
    if (n >= Math.max(1, limit)) continue;
    opened.set(key, n + 1);
    lanes.push(lane(queues.get(key)!));
  }
  await Promise.all(lanes);
  return results;
}
