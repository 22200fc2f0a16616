/**
 * Re-puts records to their stream with the project's producer (producers/KinesisProducer.putRecord),
 * as raw bytes under their original partition key.
 *
 * Why raw bytes and not re-validated events: a failed batch can hold KPL aggregates (many user
 * records in one Kinesis record) and payloads the consumer quarantined; re-validating through
 * `put(event)` would reject or re-serialise them. The bytes go back exactly as they were read, and the
 * consumer decides again, with the same rules, what is valid.
 *
 * Routing: a plain record keeps its partition key, so MD5 routes it to the same shard (unless the
 * stream was resharded). An aggregate also gets, as ExplicitHashKey, the hash key of its first user
 * record: the producer only aggregates user records bound for one shard, so that keeps them there
 * whatever outer partition key the aggregate carries.
 *
 * Note for operators: a re-put record is read again by every consumer of the stream, not only the
 * one that failed (consumers de-duplicate by envelope id; at-least-once is the contract anyway).
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import { hashKeyToString, partitionKeyToHashKey } from '../../kinesis/hash-key';
import { KplDecodeError, decodeAggregate, isAggregate } from '../../kinesis/kpl';

/** One record to write as-is (the producer's `RawRecord`). */
export interface RawPutRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly explicitHashKey?: string;
}

/** What redrive needs of a producer: `KinesisProducer` satisfies it. */
export interface RecordPutter {
  putRecord(record: RawPutRecord): Promise<{ shardId: string; sequenceNumber: string }>;
  flush(): Promise<void>;
}

export interface ReputResult {
  readonly ok: boolean;
  readonly written: number;
  readonly failures: readonly { sequenceNumber: string; error: string }[];
}

/** The raw record to write again for a record read from the stream. */
export function reputRecordOf(record: _Record): RawPutRecord {
  const data = record.Data ?? new Uint8Array();
  const partitionKey = record.PartitionKey!;
  if (isAggregate(data)) {
    try {
      const first = decodeAggregate(data)[0];
      if (first !== undefined) {
        return { partitionKey, data, explicitHashKey: first.explicitHashKey ?? hashKeyToString(partitionKeyToHashKey(first.partitionKey)) };
      }
    } catch (error) {
      // A corrupt aggregate is re-put as it is: the consumer quarantines it with its reason.
      if (!(error instanceof KplDecodeError)) throw error;
    }
  }
  return { partitionKey, data };
}

/** Writes every record (in order, per key: the producer should be created with `ordered: true`). */
export async function reputRecords(records: readonly _Record[], putter: RecordPutter): Promise<ReputResult> {
  const outcomes = await Promise.allSettled(records.map((record) => putter.putRecord(reputRecordOf(record))));
  await putter.flush();
  const failures: { sequenceNumber: string; error: string }[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'rejected') {
      failures.push({ sequenceNumber: records[index]!.SequenceNumber!, error: (outcome.reason as Error)?.message ?? String(outcome.reason) });
    }
  });
  return { ok: failures.length === 0, written: records.length - failures.length, failures };
}
