/**
 * The durable level of duplicate detection and the poison-record attempt counter (rules 8 and 13).
 *
 * Idempotency follows the model of Powertools for AWS Lambda's Idempotency utility (and of this
 * project's publish ledger, consumers/order-metrics/publish-ledger.ts): before a record's handler runs
 * its event id is claimed IN_PROGRESS with a lease (a conditional write, so of two containers only one
 * can hold it); after the handler succeeded the claim becomes COMPLETED with an expiry; after a failure
 * it is released. A claim held by another container whose lease is still valid means "running
 * elsewhere": the record is reported for redelivery, never run twice at once. A claim whose lease
 * expired (its holder's invocation is over: a timeout, a crash) is taken over.
 *
 * Attempts (rule 13, poison records): consecutive failed deliveries of one record, keyed by its
 * location (stream, shard, sequence number, sub-sequence number) and the failure's signature.
 *
 * Implementations: MemoryDurableStore (below; one container, tests), DynamoDbDurableStore
 * (dynamodb-durable-store.ts, loaded on demand by durable-store-from-env.ts).
 */

export interface EventClaim {
  readonly eventId: string;
  /** Unique to this claim: complete and release act only on the claim holding it. */
  readonly token: string;
}

export type EventClaimResult =
  | { readonly outcome: 'claimed'; readonly claim: EventClaim }
  /** The event took effect before (COMPLETED, not yet expired). */
  | { readonly outcome: 'completed' }
  /** Another invocation holds the claim and its lease is valid. */
  | { readonly outcome: 'in-progress'; readonly leaseUntil: Date };

/** Where a user record sits in the stream: the key of its attempt counter. */
export interface RecordLocation {
  readonly streamArn: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | undefined;
}

export interface DurableRecordStore {
  /** Claims `eventId` for `leaseMs` (conditional write). */
  claim(eventId: string, leaseMs: number): Promise<EventClaimResult>;
  /** Marks the claim COMPLETED (kept until its expiry). */
  complete(claim: EventClaim): Promise<void>;
  /** Gives the claim back after a failed handler (a no-op when it is no longer the caller's). */
  release(claim: EventClaim): Promise<void>;
  /**
   * Counts one failed delivery of the record at `location` with failure `signature`; `isolated` says
   * whether other records of that invocation succeeded (rule 13). Returns the streak: consecutive
   * deliveries that failed with that same signature, this one included (a different signature starts
   * again at 1), and whether any of them was isolated.
   */
  recordFailure(location: RecordLocation, signature: string, isolated: boolean): Promise<FailureStreak>;
  /** True when `eventId` is COMPLETED (operators' tools: redrive reports "already done"). */
  isCompleted(eventId: string): Promise<boolean>;
}

export interface FailureStreak {
  readonly attempts: number;
  readonly isolated: boolean;
}

/** `<stream ARN>|<shard>|<sequence number>|<sub-sequence number or empty>`. */
export function locationKey(location: RecordLocation): string {
  return `${location.streamArn}|${location.shardId}|${location.sequenceNumber}|${location.subSequenceNumber ?? ''}`;
}

interface MemoryClaim {
  status: 'IN_PROGRESS' | 'COMPLETED';
  token: string;
  leaseUntil: number;
}

/**
 * The store in one process's memory, bounded (oldest entries dropped first). It covers one warm
 * container only: for tests and for runs without a table. Single-threaded, so every operation is atomic.
 */
export class MemoryDurableStore implements DurableRecordStore {
  private readonly claims = new Map<string, MemoryClaim>();
  private readonly attempts = new Map<string, { signature: string; attempts: number; isolated: boolean }>();
  private sequence = 0;

  constructor(
    private readonly maxEntries = 100_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async claim(eventId: string, leaseMs: number): Promise<EventClaimResult> {
    const now = this.clock();
    const current = this.claims.get(eventId);
    if (current?.status === 'COMPLETED') return { outcome: 'completed' };
    if (current !== undefined && current.leaseUntil > now) return { outcome: 'in-progress', leaseUntil: new Date(current.leaseUntil) };
    const token = `m${++this.sequence}`;
    this.claims.delete(eventId);
    this.claims.set(eventId, { status: 'IN_PROGRESS', token, leaseUntil: now + leaseMs });
    bound(this.claims, this.maxEntries);
    return { outcome: 'claimed', claim: { eventId, token } };
  }

  async complete(claim: EventClaim): Promise<void> {
    const current = this.claims.get(claim.eventId);
    if (current?.token === claim.token) current.status = 'COMPLETED';
  }

  async release(claim: EventClaim): Promise<void> {
    const current = this.claims.get(claim.eventId);
    if (current?.token === claim.token && current.status === 'IN_PROGRESS') this.claims.delete(claim.eventId);
  }

  async recordFailure(location: RecordLocation, signature: string, isolated: boolean): Promise<FailureStreak> {
    const key = locationKey(location);
    const current = this.attempts.get(key);
    const streak =
      current?.signature === signature
        ? { signature, attempts: current.attempts + 1, isolated: current.isolated || isolated }
        : { signature, attempts: 1, isolated };
    this.attempts.delete(key);
    this.attempts.set(key, streak);
    bound(this.attempts, this.maxEntries);
    return { attempts: streak.attempts, isolated: streak.isolated };
  }

  async isCompleted(eventId: string): Promise<boolean> {
    return this.claims.get(eventId)?.status === 'COMPLETED';
  }
}

function bound(map: Map<string, unknown>, max: number): void {
  if (map.size > max) map.delete(map.keys().next().value as string);
}
