/**
 * Exact, per-record accounting of a local run: every record the synthetic upstream wrote (known by
 * shard and sequence number from the PutRecords result) must end, for every consumer of its stream,
 * in exactly one of these states:
 * - filtered:    skipped by the mapping's FilterCriteria (counts as processed, as in Lambda);
 * - quarantined: the consumer wrote it to its quarantine file (matched by shard + sequence number);
 * - on-failure:  discarded by the mapping after retries / record age, reported on-failure;
 * - processed:   at or below the mapping's checkpoint and none of the above;
 * - missing:     not yet (or never) checkpointed: lost, if the run is over.
 * The mapping's activity stream supplies checkpoints, filtered and discarded records; the
 * consumers' quarantine files supply the quarantined ones. A record delivered again after it was
 * checkpointed counts as a redelivery: effectively processed twice unless the consumer skipped it.
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
  /** Records the consumer saw that this run did not produce (pre-existing stream data). */
  foreign: number;
  accounted: boolean;
}

interface ConsumerLedger {
  stream: string;
  checkpoints: Map<string, bigint>;
  filtered: Set<string>;
  discarded: Set<string>;
  quarantined: Set<string>;
  foreign: Set<string>;
  redelivered: number;
}

const key = (shardId: string, sequenceNumber: string) => `${shardId}:${sequenceNumber}`;

export class DeliveryLedger {
  /** stream -> shard -> sequence number -> record */
  private readonly produced = new Map<string, Map<string, Map<string, ProducedRecord>>>();
  private readonly consumers = new Map<string, ConsumerLedger>();
  private readonly producedCount = new Map<string, number>();

  addConsumer(consumer: string, stream: string): void {
    this.consumers.set(consumer, {
      stream,
      checkpoints: new Map(),
      filtered: new Set(),
      discarded: new Set(),
      quarantined: new Set(),
      foreign: new Set(),
      redelivered: 0,
    });
  }

  recordProduced(stream: string, shardId: string, sequenceNumber: string, record: ProducedRecord): void {
    let shards = this.produced.get(stream);
    if (!shards) this.produced.set(stream, (shards = new Map()));
    let records = shards.get(shardId);
    if (!records) shards.set(shardId, (records = new Map()));
    records.set(sequenceNumber, record);
    this.producedCount.set(stream, (this.producedCount.get(stream) ?? 0) + 1);
  }

  producedOn(stream: string): number {
    return this.producedCount.get(stream) ?? 0;
  }

  private isProduced(stream: string, shardId: string, sequenceNumber: string): boolean {
    return this.produced.get(stream)?.get(shardId)?.has(sequenceNumber) ?? false;
  }

  /** Feed every activity of the consumer's event source mapping here. */
  onActivity(consumer: string, activity: EsmActivity): void {
    const ledger = this.consumers.get(consumer);
    if (!ledger) return;
    switch (activity.type) {
      case 'checkpoint': {
        const next = BigInt(activity.sequenceNumber);
        const previous = ledger.checkpoints.get(activity.shardId);
        if (previous === undefined || next > previous) ledger.checkpoints.set(activity.shardId, next);
        break;
      }
      case 'filtered':
        ledger.filtered.add(key(activity.shardId, activity.sequenceNumber));
        break;
      case 'discard':
        for (const sequenceNumber of activity.sequenceNumbers) ledger.discarded.add(key(activity.shardId, sequenceNumber));
        break;
      case 'invoke': {
        const checkpoint = ledger.checkpoints.get(activity.shardId);
        for (const sequenceNumber of activity.sequenceNumbers) {
          if (checkpoint !== undefined && BigInt(sequenceNumber) <= checkpoint) ledger.redelivered += 1;
          // Possibly foreign: the put's result may still be on its way; decided when accounting.
          if (!this.isProduced(ledger.stream, activity.shardId, sequenceNumber)) ledger.foreign.add(key(activity.shardId, sequenceNumber));
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
    ledger.quarantined.add(key(record.shardId, record.sequenceNumber));
  }

  account(consumer: string): ConsumerAccount {
    const ledger = this.consumers.get(consumer);
    if (!ledger) throw new Error(`unknown consumer ${consumer}`);
    const account: ConsumerAccount = {
      consumer,
      stream: ledger.stream,
      produced: 0,
      processed: 0,
      quarantined: 0,
      filtered: 0,
      onFailure: 0,
      missing: 0,
      validQuarantined: 0,
      invalidProcessed: 0,
      redeliveredAfterCheckpoint: ledger.redelivered,
      foreign: [...ledger.foreign].filter((k) => {
        const at = k.indexOf(':');
        return !this.isProduced(ledger.stream, k.slice(0, at), k.slice(at + 1));
      }).length,
      accounted: false,
    };
    for (const [shardId, records] of this.produced.get(ledger.stream) ?? []) {
      const checkpoint = ledger.checkpoints.get(shardId);
      for (const [sequenceNumber, record] of records) {
        account.produced += 1;
        const k = key(shardId, sequenceNumber);
        if (ledger.filtered.has(k)) account.filtered += 1;
        else if (ledger.discarded.has(k)) account.onFailure += 1;
        else if (ledger.quarantined.has(k)) {
          account.quarantined += 1;
          if (record.valid) account.validQuarantined += 1;
        } else if (checkpoint !== undefined && BigInt(sequenceNumber) <= checkpoint) {
          account.processed += 1;
          if (!record.valid) account.invalidProcessed += 1;
        } else account.missing += 1;
      }
    }
    account.accounted = account.missing === 0;
    return account;
  }

  accounts(): ConsumerAccount[] {
    return [...this.consumers.keys()].map((consumer) => this.account(consumer));
  }
}
