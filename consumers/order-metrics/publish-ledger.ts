/**
 * Remembers which windows were published, so a retried final invoke neither publishes twice nor loses
 * the window (the pattern of Powertools for AWS Lambda's idempotency utility: an in-progress record
 * with an expiry, then a completed one).
 *
 * Lambda retries a failed final invoke with the state it passed before (the state the failed invoke
 * returned is lost), so a marker in the window state alone cannot tell "published, then the invoke
 * failed". The ledger lives outside the state. Per window key:
 * - `claim` takes an in-progress claim with a lease (when the holder's invocation must be over). It
 *   succeeds when there is no claim, or when the existing claim is still in progress but its lease
 *   expired (its holder died: a timeout, a crash); a completed claim means "already published"; an
 *   in-progress claim with a valid lease is "held by someone else".
 * - `complete` marks the claim published after a successful write; `release` gives it back after a
 *   failed write. Both act only on the caller's own claim (its token).
 * - `complete` may keep the ids of the events the window counted with the completed record, and
 *   `completedEventIds` reads them back: the next window of the shard seeds its duplicate check with
 *   them (window-seed.ts), so an event written twice across a window boundary is counted once.
 * Implementations: InMemoryPublishLedger (below), FilePublishLedger (file-publish-ledger.ts, local),
 * DynamoDbPublishLedger (dynamodb-publish-ledger.ts, deployed stacks).
 */
import { randomUUID } from 'node:crypto';

/** Lambda's maximum function timeout: any invocation that claimed a key has ended 15 minutes later. */
export const DEFAULT_LEASE_MS = 15 * 60_000;

/** An in-progress claim held by the caller. */
export interface Claim {
  readonly windowKey: string;
  /** Unique to this claim: `complete` and `release` act only on the claim holding it. */
  readonly token: string;
  readonly claimedAt: Date;
  /** After this instant another caller may take the claim over (its holder is presumed dead). */
  readonly leaseUntil: Date;
}

export type ClaimResult =
  | { readonly outcome: 'claimed'; readonly claim: Claim }
  /** A completed claim exists: the window was published. */
  | { readonly outcome: 'already-published' }
  /** Someone else's in-progress claim with a valid lease: publishing now could publish twice. */
  | { readonly outcome: 'held-by-other'; readonly leaseUntil: Date };

export interface ClaimOptions {
  /** Lease of the new claim in milliseconds. Default: the ledger's lease (DEFAULT_LEASE_MS unless configured). */
  readonly leaseMs?: number;
}

/** What a completed claim keeps beside "published". */
export interface CompletedWindow {
  /** Ids of the events counted in the window (at most MAX_RECENT_EVENT_IDS, the window state's own bound). */
  readonly eventIds?: readonly string[];
}

export interface PublishLedger {
  claim(windowKey: string, options?: ClaimOptions): Promise<ClaimResult>;
  /** Marks the caller's claim published. Throws ClaimLostError when the claim is no longer the caller's. */
  complete(claim: Claim, completed?: CompletedWindow): Promise<void>;
  /** The event ids kept with the key's completed claim; undefined when the key is not completed or kept none. */
  completedEventIds(windowKey: string): Promise<readonly string[] | undefined>;
  /** Gives the caller's claim back after a failed write; a no-op when it is no longer the caller's. */
  release(claim: Claim): Promise<void>;
}

/** `complete` found another claim (or none) where the caller's was: its lease expired and was taken over. */
export class ClaimLostError extends Error {
  constructor(readonly windowKey: string) {
    super(`the publish claim on window "${windowKey}" was taken over after its lease expired: the window may be published twice`);
    this.name = 'ClaimLostError';
  }
}

export interface LedgerTiming {
  /** Default lease of a claim (ms). Default: DEFAULT_LEASE_MS. */
  leaseMs?: number;
  clock?: () => Date;
}

/** Validates a lease (a positive whole number of milliseconds) and returns it. */
export function checkLeaseMs(leaseMs: number): number {
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) throw new RangeError(`lease must be a positive whole number of milliseconds, got ${leaseMs}`);
  return leaseMs;
}

/** A new claim starting now. */
export function newClaim(windowKey: string, now: Date, leaseMs: number): Claim {
  return { windowKey, token: randomUUID(), claimedAt: now, leaseUntil: new Date(now.getTime() + checkLeaseMs(leaseMs)) };
}

interface MemoryEntry {
  status: 'IN_PROGRESS' | 'COMPLETED';
  token: string;
  leaseUntil: number;
  eventIds?: readonly string[];
}

/** Completed windows whose event ids the in-memory ledger keeps (up to ~150 KB each): the latest few. */
const MEMORY_EVENT_ID_WINDOWS = 32;

/**
 * Per container (Lambda sandbox) memory, bounded: covers a retry that lands on the same warm sandbox,
 * not one on a new sandbox. The fallback when no ledger table is configured; deployed stacks use
 * DynamoDbPublishLedger. Single-threaded, so every operation is atomic.
 */
export class InMemoryPublishLedger implements PublishLedger {
  private readonly entries = new Map<string, MemoryEntry>();
  /** Keys whose entry holds event ids, oldest first (bounded by MEMORY_EVENT_ID_WINDOWS). */
  private readonly withIds: string[] = [];
  private readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly maxEntries = 1024,
    timing: LedgerTiming = {},
  ) {
    this.leaseMs = checkLeaseMs(timing.leaseMs ?? DEFAULT_LEASE_MS);
    this.clock = timing.clock ?? (() => new Date());
  }

  async claim(windowKey: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    const now = this.clock();
    const current = this.entries.get(windowKey);
    if (current?.status === 'COMPLETED') return { outcome: 'already-published' };
    if (current !== undefined && current.leaseUntil > now.getTime()) return { outcome: 'held-by-other', leaseUntil: new Date(current.leaseUntil) };
    const claim = newClaim(windowKey, now, options.leaseMs ?? this.leaseMs);
    this.entries.delete(windowKey); // re-inserted last: Maps iterate in insertion order, the first key is the oldest
    this.entries.set(windowKey, { status: 'IN_PROGRESS', token: claim.token, leaseUntil: claim.leaseUntil.getTime() });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return { outcome: 'claimed', claim };
  }

  async complete(claim: Claim, completed: CompletedWindow = {}): Promise<void> {
    const current = this.entries.get(claim.windowKey);
    if (current?.token !== claim.token) throw new ClaimLostError(claim.windowKey);
    current.status = 'COMPLETED';
    if (completed.eventIds === undefined || current.eventIds !== undefined) return;
    current.eventIds = [...completed.eventIds];
    this.withIds.push(claim.windowKey);
    if (this.withIds.length > MEMORY_EVENT_ID_WINDOWS) {
      const oldest = this.entries.get(this.withIds.shift()!);
      if (oldest !== undefined) delete oldest.eventIds;
    }
  }

  async completedEventIds(windowKey: string): Promise<readonly string[] | undefined> {
    const current = this.entries.get(windowKey);
    return current?.status === 'COMPLETED' ? current.eventIds : undefined;
  }

  async release(claim: Claim): Promise<void> {
    const current = this.entries.get(claim.windowKey);
    if (current?.token === claim.token && current.status === 'IN_PROGRESS') this.entries.delete(claim.windowKey);
  }
}
