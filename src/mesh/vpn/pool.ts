/**
 * Runs `fn` over every item with at most `limit` calls in flight, results in input order. Once `signal`
 * aborts, items not yet started get `onAbort` instead of a call (the ones in flight finish on their own
 * time bound).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
  options: { signal?: AbortSignal; onAbort: (item: T) => R },
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      results[i] = options.signal?.aborted ? options.onAbort(item) : await fn(item);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
