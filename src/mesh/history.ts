import type { z } from 'zod';

/**
 * The port through which checks keep their runs and read them back (Redis implements it in
 * src/history/store.ts): each check kind stores a small snapshot of its own, bounded by count and age.
 */

export type HistoryKind = 'status' | 'vpn' | 'proxies';

/** One stored run: when it was checked, and the check's snapshot as it was written (parsed by its reader). */
export interface StoredRun {
  at: number;
  data: unknown;
}

export interface HistoryPort {
  /** Keeps a run; the oldest runs beyond the configured count or age are dropped. */
  record(kind: HistoryKind, at: number, data: unknown): Promise<void>;
  /** Runs checked at or after `sinceMs`, oldest first. */
  since(kind: HistoryKind, sinceMs: number): Promise<StoredRun[]>;
  /** The oldest run checked at or after `sinceMs`. */
  first(kind: HistoryKind, sinceMs: number): Promise<StoredRun | undefined>;
  /** The newest run checked at or before `untilMs` (the newest of all by default). */
  last(kind: HistoryKind, untilMs?: number): Promise<StoredRun | undefined>;
}

/** A run's snapshot with its time, once its reader has parsed it. */
export type Run<T> = T & { at: number };

/**
 * Parses stored runs with the check's schema: an entry of another version or a corrupt one is skipped, so
 * history never breaks a check; it only has less to compare with.
 */
export function parseRuns<T>(schema: z.ZodType<T>, runs: readonly StoredRun[]): Run<T>[] {
  return runs.flatMap((r) => {
    const run = parseRun(schema, r);
    return run ? [run] : [];
  });
}

export function parseRun<T>(schema: z.ZodType<T>, run: StoredRun | undefined): Run<T> | undefined {
  if (!run) return undefined;
  const parsed = schema.safeParse(run.data);
  return parsed.success ? { ...parsed.data, at: run.at } : undefined;
}

export const DAY_MS = 86_400_000;
