/**
 * Which records of a failed batch already took effect, by the consumer's idempotency table (pipeline
 * option `idempotencyTable`; consumers/runtime/durable-store.ts): a record whose every user event is
 * valid and COMPLETED there is "already done". Lambda sends a whole sub-batch to on-failure, records that
 * succeeded on an earlier attempt (or, with parallelizationFactor > 1, in another lane of the shard)
 * included; redrive skips those, so a redrive never repeats an effect. The consumer's own claims guard
 * the rest (a record completed between this check and the invocation is skipped by the consumer).
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import type { RecordInspector } from '../decode/record-inspector';

/** What the check needs of the store: DynamoDbDurableStore satisfies it. */
export interface EffectStore {
  isCompleted(eventId: string): Promise<boolean>;
}

export interface AlreadyDoneCheck {
  readonly store: EffectStore;
  readonly inspector: RecordInspector;
}

/** Sequence numbers of `records` (one shard's) whose every user event already took effect. */
export async function alreadyDoneRecords(records: readonly _Record[], shardId: string, streamArn: string, check: AlreadyDoneCheck): Promise<Set<string>> {
  const events = check.inspector.inspectRecords(records, shardId, streamArn);
  const bySequence = new Map<string, { ids: string[]; allValid: boolean }>();
  for (const event of events) {
    const entry = bySequence.get(event.sequenceNumber) ?? { ids: [], allValid: true };
    if (event.valid && event.id !== undefined) entry.ids.push(event.id);
    else entry.allValid = false;
    bySequence.set(event.sequenceNumber, entry);
  }
  const done = new Set<string>();
  for (const [sequenceNumber, entry] of bySequence) {
    if (!entry.allValid || entry.ids.length === 0) continue;
    const completed = await Promise.all(entry.ids.map((id) => check.store.isCompleted(id)));
    if (completed.every(Boolean)) done.add(sequenceNumber);
  }
  return done;
}
