/**
 * Exact, per-record accounting of a local run: every record the synthetic upstream wrote (known by
 * shard and sequence number from the PutRecords result) must end, for every consumer of its stream,
 * in exactly one of these states:
 * - filtered:    skipped by the mapping's FilterCriteria or by the consumer runtime's record filter
 *                (recordFilterPatterns; counts as processed, as in Lambda);
 * - on-failure:  discarded by the mapping after retries / record age, reported on-failure;
 * - quarantined: the consumer wrote it to its quarantine file (matched by shard + sequence number);
 * - processed:   at or below the mapping's checkpoint and none of the above;
 * - missing:     not yet (or never) checkpointed: lost, if the run is over.
 * The mapping's activity stream supplies checkpoints, filtered and discarded records; the
 * consumers' quarantine files supply the quarantined ones. A record delivered again after it was
 * checkpointed counts as a redelivery: effectively processed twice unless the consumer skipped it.
 *
 * Incremental: a checkpoint resolves only the records still open on that shard, and counters are
 * kept as records resolve, so the cost per refresh does not grow with the length of the run.
 */
import type { EsmActivity } from './esm/types';

export interface ProducedRecord {
  readonly eventId: string;
  readonly valid: boolean;
  /** For invalid records: what is wrong with it (fixture label). */
  readonly invalidKind?: string;
}

export interface ConsumerAccount {
  consumer: string;
  stream: string;
  /** Records of this run's upstream on the consumer's stream. */
  produced: number;
  processed: number;
  quarantined: number;
  filtered: number;
  onFailure: number;
  missing: number;
  /** Valid events the consumer quarantined (a consumer bug or a transient error taken as permanent). */
  validQuarantined: number;
  /** Invalid events the consumer processed instead of quarantining. */
  invalidProcessed: number;
  /** Records invoked again after the mapping had checkpointed past them. */
  redeliveredAfterCheckpoint: number;
  /** Records the consumer saw that this run's upstream did not record as written: foreignBeforeRun + foreignDuringRun. */
  foreign: number;
  /** Of those, records older than this run's first record on their shard: stream data from before this run. */
  foreignBeforeRun: number;
  /**
   * Of those, records written during this run that the upstream did not record: a PutRecords retry of a
   * write that had in fact succeeded (the first copy's result was lost), re-put redrives, other writers.
   */
  foreignDuringRun: number;
  accounted: boolean;
}

/** Marks a consumer's mapping or quarantine file put on a record (bit flags). */
const FILTERED = 1;
const DISCARDED = 2;
const QUARANTINED = 4;

type Outcome = 'processed' | 'filtered' | 'onFailure' | 'quarantined';

function outcomeOf(marks: number): Outcome {
  if (marks & FILTERED) return 'filtered';
  if (marks & DISCARDED) return 'onFailure';
  if (marks & QUARANTINED) return 'quarantined';
  return 'processed';
}

interface Entry {
  readonly sequence: bigint;
  readonly record: ProducedRecord;
  /** Per consumer of the stream (by index): marks, and whether the record is resolved. */
  readonly marks: Uint8Array;
  readonly resolved: Uint8Array;
}

interface ConsumerLedger {
  readonly name: string;
  readonly stream: string;
  /** Index of this consumer in its stream's entries' per-consumer arrays. */
  readonly index: number;
  readonly checkpoints: Map<string, bigint>;
  /** Open (unresolved) entries per shard: only the backlog, not the whole run. */
  readonly open: Map<string, Set<Entry>>;
  /** Marks for records whose put result has not arrived yet. */
  readonly earlyMarks: Map<string, number>;
  /** Records invoked that this run has not (yet) produced. */
  readonly unknownInvoked: Set<string>;
  readonly counts: Record<Outcome, number> & { produced: number; validQuarantined: number; invalidProcessed: number; redelivered: number };
}

const key = (shardId: string, sequenceNumber: string) => `${shardId}:${sequenceNumber}`;
/** Inverse of `key` (shard ids contain no ':'). */
const splitKey = (k: string): [string, string] => {
  const colon = k.indexOf(':');
  return [k.slice(0, colon), k.slice(colon + 1)];
};

export class DeliveryLedger {
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly consumers = new Map<string, ConsumerLedger>();
  private readonly byStream = new Map<string, ConsumerLedger[]>();

  /** Register every consumer before the first record is produced. */
  addConsumer(consumer: string, stream: string): void {
    const siblings = this.byStream.get(stream) ?? [];
    const ledger: ConsumerLedger = {
      name: consumer,
      stream,
      index: siblings.length,
      checkpoints: new Map(),
      open: new Map(),
      earlyMarks: new Map(),
      unknownInvoked: new Set(),
      counts: { produced: 0, processed: 0, filtered: 0, onFailure: 0, quarantined: 0, validQuarantined: 0, invalidProcessed: 0, redelivered: 0 },
    };
    siblings.push(ledger);
    this.byStream.set(stream, siblings);
    this.consumers.set(consumer, ledger);
  }

  /** Per stream and shard: the lowest sequence number this run's upstream wrote. */
  private readonly firstProduced = new Map<string, bigint>();

  recordProduced(stream: string, shardId: string, sequenceNumber: string, record: ProducedRecord): void {
    const shardKey = `${stream}|${shardId}`;
    const sequence = BigInt(sequenceNumber);
    const first = this.firstProduced.get(shardKey);
    if (first === undefined || sequence < first) this.firstProduced.set(shardKey, sequence);
    let entries = this.entries.get(stream);
    if (!entries) this.entries.set(stream, (entries = new Map()));
    const k = key(shardId, sequenceNumber);
    const consumers = this.byStream.get(stream) ?? [];
    const entry: Entry = { sequence: BigInt(sequenceNumber), record, marks: new Uint8Array(consumers.length), resolved: new Uint8Array(consumers.length) };
    entries.set(k, entry);
    for (const ledger of consumers) {
      ledger.counts.produced += 1;
      ledger.unknownInvoked.delete(k);
      const early = ledger.earlyMarks.get(k);
      if (early !== undefined) {
        entry.marks[ledger.index] = early;
        ledger.earlyMarks.delete(k);
      }
      const checkpoint = ledger.checkpoints.get(shardId);
      // The mapping may have checkpointed past it before its put result arrived.
      if (checkpoint !== undefined && entry.sequence <= checkpoint) this.resolve(ledger, entry);
      else {
        let open = ledger.open.get(shardId);
        if (!open) ledger.open.set(shardId, (open = new Set()));
        open.add(entry);
      }
    }
  }

  private entry(ledger: ConsumerLedger, k: string): Entry | undefined {
    return this.entries.get(ledger.stream)?.get(k);
  }

  private count(ledger: ConsumerLedger, entry: Entry, delta: 1 | -1): void {
    const outcome = outcomeOf(entry.marks[ledger.index]!);
    ledger.counts[outcome] += delta;
    if (outcome === 'quarantined' && entry.record.valid) ledger.counts.validQuarantined += delta;
    if (outcome === 'processed' && !entry.record.valid) ledger.counts.invalidProcessed += delta;
  }

  private resolve(ledger: ConsumerLedger, entry: Entry): void {
    entry.resolved[ledger.index] = 1;
    this.count(ledger, entry, 1);
  }

  private mark(ledger: ConsumerLedger, shardId: string, sequenceNumber: string, flag: number): void {
    const k = key(shardId, sequenceNumber);
    const entry = this.entry(ledger, k);
    if (!entry) {
      ledger.earlyMarks.set(k, (ledger.earlyMarks.get(k) ?? 0) | flag);
      return;
    }
    const resolved = entry.resolved[ledger.index] === 1;
    // A mark arriving after resolution (a quarantine line read late) moves the record to its class.
    if (resolved) this.count(ledger, entry, -1);
    entry.marks[ledger.index]! |= flag;
    if (resolved) this.count(ledger, entry, 1);
  }

  /**
   * A record the consumer's runtime filter (recordFilterPatterns) leaves out: the runtime reports it as
   * processed, so the runner, which knows what it wrote, marks it here.
   */
  markFilteredByRuntime(consumer: string, shardId: string, sequenceNumber: string): void {
    const ledger = this.consumers.get(consumer);
    if (ledger) this.mark(ledger, shardId, sequenceNumber, FILTERED);
  }

  /** Feed every activity of the consumer's event source mapping here. */
  onActivity(consumer: string, activity: EsmActivity): void {
    const ledger = this.consumers.get(consumer);
    if (!ledger) return;
    switch (activity.type) {
      case 'checkpoint': {
        const next = BigInt(activity.sequenceNumber);
        const previous = ledger.checkpoints.get(activity.shardId);
        if (previous !== undefined && next <= previous) break;
        ledger.checkpoints.set(activity.shardId, next);
        const open = ledger.open.get(activity.shardId);
        if (!open) break;
        for (const entry of open) {
          if (entry.sequence <= next) {
            open.delete(entry);
            this.resolve(ledger, entry);
          }
        }
        break;
      }
      case 'filtered':
        this.mark(ledger, activity.shardId, activity.sequenceNumber, FILTERED);
        break;
      case 'discard':
        for (const sequenceNumber of activity.sequenceNumbers) this.mark(ledger, activity.shardId, sequenceNumber, DISCARDED);
        break;
      case 'invoke': {
        const checkpoint = ledger.checkpoints.get(activity.shardId);
        for (const sequenceNumber of activity.sequenceNumbers) {
          if (checkpoint !== undefined && BigInt(sequenceNumber) <= checkpoint) ledger.counts.redelivered += 1;
          const k = key(activity.shardId, sequenceNumber);
          // Possibly foreign: the put's result may still be on its way (recordProduced clears it).
          if (!this.entry(ledger, k)) ledger.unknownInvoked.add(k);
        }
        break;
      }
      default:
        break;
    }
  }

  /** A quarantine record the consumer wrote (the runtime's QuarantineRecord: `record.shardId`, `record.sequenceNumber`). */
  onQuarantined(consumer: string, line: unknown): void {
    const ledger = this.consumers.get(consumer);
    const record = (line as { record?: { shardId?: unknown; sequenceNumber?: unknown } } | null)?.record;
    if (!ledger || typeof record?.shardId !== 'string' || typeof record.sequenceNumber !== 'string') return;
    this.mark(ledger, record.shardId, record.sequenceNumber, QUARANTINED);
  }

  account(consumer: string): ConsumerAccount {
    const ledger = this.consumers.get(consumer);
    if (!ledger) throw new Error(`unknown consumer ${consumer}`);
    const c = ledger.counts;
    const resolved = c.processed + c.filtered + c.onFailure + c.quarantined;
    const missing = c.produced - resolved;
    let foreignDuringRun = 0;
    for (const k of ledger.unknownInvoked) {
      const [shardId, sequenceNumber] = splitKey(k);
      const first = this.firstProduced.get(`${ledger.stream}|${shardId}`);
      if (first !== undefined && BigInt(sequenceNumber) > first) foreignDuringRun += 1;
    }
    return {
      consumer,
      stream: ledger.stream,
      produced: c.produced,
      processed: c.processed,
      quarantined: c.quarantined,
      filtered: c.filtered,
      onFailure: c.onFailure,
      missing,
      validQuarantined: c.validQuarantined,
      invalidProcessed: c.invalidProcessed,
      redeliveredAfterCheckpoint: c.redelivered,
      foreign: ledger.unknownInvoked.size,
      foreignBeforeRun: ledger.unknownInvoked.size - foreignDuringRun,
      foreignDuringRun,
      accounted: missing === 0,
    };
  }

  accounts(): ConsumerAccount[] {
    return [...this.consumers.keys()].map((consumer) => this.account(consumer));
  }
}
