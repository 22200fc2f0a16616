/**
 * Rule 8: Kinesis and Lambda deliver at least once, so a record can arrive again (retries after a
 * partial failure, bisection, timeouts). Handled events are remembered by envelope `id` and skipped
 * when they come back.
 */

/**
 * Remembers handled event ids. Methods may be sync (in-memory) or async (a durable store such as
 * DynamoDB); the runtime only awaits when a promise is returned.
 */
export interface IdempotencyStore {
  /** True when the event with this id was already handled. */
  has(eventId: string): boolean | Promise<boolean>;
  /** Record that the event was handled (called after its handler succeeded). */
  add(eventId: string): void | Promise<void>;
}

/** Default capacity of the in-memory store: a few 10,000-record batches of ids. */
export const DEFAULT_IDEMPOTENCY_ENTRIES = 50_000;

/**
 * Bounded least-recently-used set of event ids, per Lambda container (a Map keeps insertion order,
 * so the oldest entry is the first key). Catches redeliveries that reach the same container, which
 * is the common case (a retry of a shard's batch goes to a warm container); a durable store covers the rest.
 */
export class LruIdempotencyStore implements IdempotencyStore {
  private readonly ids = new Map<string, true>();

  constructor(readonly maxEntries: number = DEFAULT_IDEMPOTENCY_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  has(eventId: string): boolean {
    if (!this.ids.has(eventId)) return false;
    // Refresh recency: delete + set moves the id to the newest end.
    this.ids.delete(eventId);
    this.ids.set(eventId, true);
    return true;
  }

  add(eventId: string): void {
    const ids = this.ids;
    // Called right after has() returned false, so the id is almost always new: one set, plus an
    // eviction of the oldest id when full. (Re-adding a present id keeps its old position: harmless.)
    if (ids.size >= this.maxEntries && !ids.has(eventId)) ids.delete(ids.keys().next().value as string);
    ids.set(eventId, true);
  }

  /** Number of remembered ids. */
  get size(): number {
    return this.ids.size;
  }
}
