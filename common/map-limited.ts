/**
 * Maps items through `work`, at most `limit` at a time, answers in the items' order: the
 * API's reads of many workflows (prompt list, census) and the fault campaign's verification
 * keep the Temporal frontend to a bounded number of calls in flight.
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}
