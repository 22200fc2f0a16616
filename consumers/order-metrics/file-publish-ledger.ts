/**
 * The local PublishLedger (see publish-ledger.ts): files under one folder, shared by every worker
 * process of the local runner and surviving runner restarts.
 *
 * Each window key has a chain of generation files `<sha256(key)>.<n>.json`, each immutable once visible:
 * {status: IN_PROGRESS|COMPLETED|RELEASED, token, leaseUntil (epoch ms), windowKey, eventIds? (COMPLETED
 * only: the ids the window counted, see publish-ledger.ts)}. The highest
 * generation is the window's state. Every transition from generation n (claim, take-over of an expired
 * lease, complete, release) creates generation n+1 with link(2) from a fully written temp file: link
 * fails with EEXIST when the target exists, so of any number of processes making a transition from the
 * same generation exactly one wins, and nobody ever sees a half-written file. No read-then-overwrite
 * step exists, so the file ledger has no race of its own: `complete` by a holder whose lease was taken
 * over fails (ClaimLostError) instead of overwriting the new claim. What remains is the window-level
 * case every ledger shares (the write succeeded, the holder could not complete; see publish-window.ts).
 *
 * Markers of the earlier format (`<sha256(key)>.published`, written once per published window) still
 * count as published.
 */
import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ClaimLostError,
  DEFAULT_LEASE_MS,
  checkLeaseMs,
  newClaim,
  type Claim,
  type ClaimOptions,
  type ClaimResult,
  type CompletedWindow,
  type LedgerTiming,
  type PublishLedger,
} from './publish-ledger';

type FileStatus = 'IN_PROGRESS' | 'COMPLETED' | 'RELEASED';

interface Generation {
  readonly status: FileStatus;
  readonly token: string;
  readonly leaseUntil: number;
  readonly windowKey: string;
  readonly eventIds?: readonly string[];
}

/** Transitions tried before giving up under contention (each lost race means someone else progressed). */
const MAX_ATTEMPTS = 8;

export class FilePublishLedger implements PublishLedger {
  private ready: Promise<unknown> | undefined;
  private readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly directory: string,
    timing: LedgerTiming = {},
  ) {
    this.leaseMs = checkLeaseMs(timing.leaseMs ?? DEFAULT_LEASE_MS);
    this.clock = timing.clock ?? (() => new Date());
  }

  async claim(windowKey: string, options: ClaimOptions = {}): Promise<ClaimResult> {
    this.ready ??= mkdir(this.directory, { recursive: true });
    await this.ready;
    const base = this.basePath(windowKey);
    if (await exists(`${base}.published`)) return { outcome: 'already-published' };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.clock();
      const top = await this.top(base);
      if (top?.state.status === 'COMPLETED') return { outcome: 'already-published' };
      if (top?.state.status === 'IN_PROGRESS' && top.state.leaseUntil > now.getTime()) {
        return { outcome: 'held-by-other', leaseUntil: new Date(top.state.leaseUntil) };
      }
      // No claim, a released one, or an in-progress one whose lease expired (take-over).
      const claim = newClaim(windowKey, now, options.leaseMs ?? this.leaseMs);
      const next = top === undefined ? 0 : top.n + 1;
      if (await this.create(base, next, { status: 'IN_PROGRESS', token: claim.token, leaseUntil: claim.leaseUntil.getTime(), windowKey })) {
        return { outcome: 'claimed', claim };
      }
      // Another process made the transition first: look again.
    }
    const top = await this.top(base);
    if (top?.state.status === 'COMPLETED') return { outcome: 'already-published' };
    return { outcome: 'held-by-other', leaseUntil: new Date(top?.state.leaseUntil ?? this.clock().getTime()) };
  }

  async complete(claim: Claim, completed: CompletedWindow = {}): Promise<void> {
    const base = this.basePath(claim.windowKey);
    const top = await this.top(base);
    if (top?.state.token !== claim.token) throw new ClaimLostError(claim.windowKey);
    if (top.state.status === 'COMPLETED') return;
    const done: Generation = {
      status: 'COMPLETED',
      token: claim.token,
      leaseUntil: top.state.leaseUntil,
      windowKey: claim.windowKey,
      ...(completed.eventIds !== undefined ? { eventIds: completed.eventIds } : {}),
    };
    // Losing this race means a take-over created the next generation first.
    if (!(await this.create(base, top.n + 1, done))) throw new ClaimLostError(claim.windowKey);
  }

  async release(claim: Claim): Promise<void> {
    const base = this.basePath(claim.windowKey);
    const top = await this.top(base);
    if (top?.state.token !== claim.token || top.state.status !== 'IN_PROGRESS') return;
    // Losing this race means the claim is no longer ours: nothing to give back.
    await this.create(base, top.n + 1, { status: 'RELEASED', token: claim.token, leaseUntil: top.state.leaseUntil, windowKey: claim.windowKey });
  }

  async completedEventIds(windowKey: string): Promise<readonly string[] | undefined> {
    const top = await this.top(this.basePath(windowKey));
    return top?.state.status === 'COMPLETED' ? top.state.eventIds : undefined;
  }

  /** The highest generation, probing upwards from 0 (a window has a handful of generations). */
  private async top(base: string): Promise<{ n: number; state: Generation } | undefined> {
    let found: { n: number; state: Generation } | undefined;
    for (let n = 0; ; n++) {
      let text: string;
      try {
        text = await readFile(`${base}.${n}.json`, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return found;
        throw error;
      }
      found = { n, state: JSON.parse(text) as Generation };
    }
  }

  /** Creates generation `n` atomically and exclusively; false when it exists already. */
  private async create(base: string, n: number, state: Generation): Promise<boolean> {
    const temp = `${base}.${randomUUID()}.tmp`;
    await writeFile(temp, JSON.stringify(state));
    try {
      await link(temp, `${base}.${n}.json`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      // The temp file is only a source for link(2); a leftover one is never read.
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Window keys contain ARNs ("|", ":", "/"): hash them into a portable file name. */
  private basePath(windowKey: string): string {
    return join(this.directory, createHash('sha256').update(windowKey).digest('hex'));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
