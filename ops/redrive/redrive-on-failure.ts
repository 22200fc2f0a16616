/**
 * Redrive of on-failure records: for each record of the source (queue or file), read the failed
 * batch back from Kinesis, then re-invoke the consumer or re-put the records, and remove the
 * on-failure record only when that succeeded. What can no longer be read (past retention) is reported
 * precisely; such a record is kept unless the operator says `discardUnrecoverable`.
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RecordFilter } from '../../kinesis/filter-pattern';
import type { ShardRangeReader, UnrecoverablePart } from '../aws/shard-range-reader';
import { streamNameFromArn } from '../naming';
import { alreadyDoneRecords, type AlreadyDoneCheck } from './already-done';
import { redriveByInvoke, type InvokeAttempt } from './invoke-redriver';
import { redriveEach, type MessageSource, type SourceItem } from './message-source';
import { parseOnFailureRecord, type KinesisBatchInfo } from './on-failure-record';
import { reputRecords, type RecordPutter } from './reput';

export type RedriveMode = 'invoke' | 'reput';

export interface InvokeTarget {
  readonly lambda: LambdaClient;
  readonly functionName: string;
  readonly region: string;
  /** The execution role ARN put in `invokeIdentityArn` (resolved once, lazily). */
  readonly invokeIdentityArn: () => Promise<string>;
  readonly reportBatchItemFailures: boolean;
  readonly maxAttempts: number;
  readonly batchSize: number;
  /**
   * The mapping's FilterCriteria (local/esm compileFilters): records it drops are not sent, as the
   * event source mapping would not send them; they count as processed (Lambda: "invocation-eventfiltering").
   */
  readonly filter?: RecordFilter | undefined;
}

export interface OnFailureRedriveOptions {
  readonly source: MessageSource;
  readonly reader: ShardRangeReader;
  readonly mode: RedriveMode;
  readonly dryRun: boolean;
  /** Remove records with an unrecoverable part once the rest is redriven (default: keep them). */
  readonly discardUnrecoverable: boolean;
  /** The stream the consumer reads: records of another stream are skipped, not redriven. */
  readonly expectedStreamName?: string;
  readonly invoke?: InvokeTarget;
  readonly putter?: RecordPutter;
  /** Called once per source item, as soon as it is done. */
  readonly onItem?: (report: RedriveItemReport) => void;
  /** The consumer's idempotency table: records that already took effect are skipped and counted as such. */
  readonly alreadyDone?: AlreadyDoneCheck;
}

export type RedriveItemStatus = 'redriven' | 'partly-unrecoverable' | 'unrecoverable' | 'failed' | 'invalid' | 'skipped' | 'dry-run';

export interface RedriveItemReport {
  readonly id: string;
  readonly status: RedriveItemStatus;
  readonly batch?: KinesisBatchInfo;
  /** Records read back from the stream. */
  readonly recordsRead: number;
  /** Records the consumer acknowledged / the producer wrote (filtered-out records included). */
  readonly recordsRedriven: number;
  /** Records the mapping's filter criteria drop (not sent, processed by definition). */
  readonly recordsFiltered?: number;
  /** Records whose effects were already done (the consumer's idempotency table): not sent again. */
  readonly recordsAlreadyDone?: number;
  /** The idempotency table could not be read: every record was sent (the consumer's claims still skip what took effect). */
  readonly alreadyDoneCheckError?: string;
  readonly getRecordsCalls: number;
  readonly unrecoverable: readonly UnrecoverablePart[];
  readonly attempts?: readonly InvokeAttempt[];
  /** Removed from the queue / file. */
  readonly removed: boolean;
  readonly detail: string;
}

export interface RedriveSummary {
  readonly items: readonly RedriveItemReport[];
  readonly removed: number;
  readonly kept: number;
  readonly recordsRedriven: number;
  /** Records skipped because they already took effect (consumers with an idempotency table). */
  readonly recordsAlreadyDone: number;
  /** Records known lost past retention (sum of the known counts). */
  readonly recordsUnrecoverable: number;
  /** True when every item was redriven and removed (or, in a dry run, could be). */
  readonly ok: boolean;
}

export async function redriveOnFailure(options: OnFailureRedriveOptions): Promise<RedriveSummary> {
  // One batch's failure (a Kinesis or Lambda error) is reported and kept; the others go on.
  const items = await redriveEach(
    options.source,
    (item) => redriveItem(item, options),
    (item, detail): RedriveItemReport => ({
      id: item.id,
      status: 'failed',
      recordsRead: 0,
      recordsRedriven: 0,
      getRecordsCalls: 0,
      unrecoverable: [],
      removed: false,
      detail,
    }),
    (report) => options.onItem?.(report),
  );
  const removed = items.filter((i) => i.removed).length;
  return {
    items,
    removed,
    kept: items.length - removed,
    recordsRedriven: items.reduce((n, i) => n + i.recordsRedriven, 0),
    recordsAlreadyDone: items.reduce((n, i) => n + (i.recordsAlreadyDone ?? 0), 0),
    recordsUnrecoverable: items.reduce((n, i) => n + i.unrecoverable.reduce((m, u) => m + (u.count ?? 0), 0), 0),
    ok: items.every((i) => i.removed || (i.status === 'dry-run' && i.unrecoverable.length === 0)),
  };
}

async function redriveItem(item: SourceItem, options: OnFailureRedriveOptions): Promise<RedriveItemReport> {
  const empty = { recordsRead: 0, recordsRedriven: 0, getRecordsCalls: 0, unrecoverable: [], removed: false };
  const parsed = parseOnFailureRecord(item.body);
  if (!parsed.ok) return { id: item.id, status: 'invalid', ...empty, detail: `kept: ${parsed.reason}` };
  const info = parsed.record.KinesisBatchInfo;
  const streamName = streamNameFromArn(info.streamArn);
  if (options.expectedStreamName !== undefined && streamName !== options.expectedStreamName) {
    return { id: item.id, status: 'skipped', batch: info, ...empty, detail: `kept: the batch is from stream ${streamName}, the consumer reads ${options.expectedStreamName}` };
  }

  const read = await options.reader.read({
    streamName,
    shardId: info.shardId,
    startSequenceNumber: info.startSequenceNumber,
    endSequenceNumber: info.endSequenceNumber,
    expectedCount: info.batchSize,
  });
  const base = { id: item.id, batch: info, recordsRead: read.records.length, getRecordsCalls: read.getRecordsCalls, unrecoverable: read.unrecoverable };
  const lost = read.unrecoverable.length > 0;
  // Never repeat an effect: what already took effect is not sent again (only reported).
  // Best effort: if the table cannot be read, everything is sent and the consumer's own claims skip what took effect.
  let done = new Set<string>();
  let checkError: string | undefined;
  if (options.alreadyDone && read.records.length > 0) {
    try {
      done = await alreadyDoneRecords(read.records, info.shardId, info.streamArn, options.alreadyDone);
    } catch (error) {
      checkError = `${(error as Error).name}: ${(error as Error).message}`;
    }
  }
  const todo = done.size === 0 ? read.records : read.records.filter((r) => !done.has(r.SequenceNumber!));
  const doneFields = options.alreadyDone ? (checkError === undefined ? { recordsAlreadyDone: done.size } : { alreadyDoneCheckError: checkError }) : {};

  if (options.dryRun) {
    const action = options.mode === 'invoke' ? `invoke ${options.invoke?.functionName ?? 'the consumer'} with` : 're-put';
    return {
      ...base,
      ...doneFields,
      status: 'dry-run',
      recordsRedriven: 0,
      removed: false,
      detail: `would ${action} ${todo.length} record(s)${done.size > 0 ? ` (${done.size} already done)` : ''}${lost ? '; part of the batch is unrecoverable' : ''}`,
    };
  }

  let redriven = 0;
  let failure: string | undefined;
  let attempts: readonly InvokeAttempt[] | undefined;
  let filtered = 0;
  if (todo.length > 0) {
    const outcome = await redriveRecords(todo, info, options);
    redriven = outcome.redriven;
    failure = outcome.failure;
    attempts = outcome.attempts;
    filtered = outcome.filtered ?? 0;
  }
  const succeeded = failure === undefined;
  const remove = succeeded && (!lost || options.discardUnrecoverable);
  if (remove) await options.source.ack(item);
  const status: RedriveItemStatus = !succeeded
    ? 'failed'
    : lost
      ? read.records.length === 0
        ? 'unrecoverable'
        : 'partly-unrecoverable'
      : 'redriven';
  const detail = !succeeded
    ? `kept: ${failure}`
    : lost && !remove
      ? `kept: ${read.records.length === 0 ? 'the batch is' : 'part of the batch is'} no longer readable (rerun with --discard-unrecoverable to remove it once noted)`
      : remove
        ? 'removed'
        : 'kept';
  return {
    ...base,
    ...doneFields,
    status,
    recordsRedriven: redriven,
    ...(filtered > 0 ? { recordsFiltered: filtered } : {}),
    ...(attempts ? { attempts } : {}),
    removed: remove,
    detail,
  };
}

async function redriveRecords(
  records: readonly _Record[],
  info: KinesisBatchInfo,
  options: OnFailureRedriveOptions,
): Promise<{ redriven: number; failure?: string; attempts?: readonly InvokeAttempt[]; filtered?: number }> {
  if (options.mode === 'invoke') {
    const target = options.invoke;
    if (!target) throw new Error('invoke mode needs an invoke target');
    const send = target.filter ? records.filter((r) => target.filter!.matches(r.Data ?? new Uint8Array())) : records;
    const filtered = records.length - send.length;
    if (send.length === 0) return { redriven: records.length, filtered };
    const result = await redriveByInvoke(send, {
      lambda: target.lambda,
      functionName: target.functionName,
      eventContext: {
        shardId: info.shardId,
        invokeIdentityArn: await target.invokeIdentityArn(),
        awsRegion: target.region,
        eventSourceARN: info.streamArn,
      },
      reportBatchItemFailures: target.reportBatchItemFailures,
      maxAttempts: target.maxAttempts,
      batchSize: target.batchSize,
    });
    return result.ok
      ? { redriven: result.succeeded + filtered, attempts: result.attempts, filtered }
      : { redriven: result.succeeded, failure: `from ${result.failedFrom}: ${result.reason}`, attempts: result.attempts, filtered };
  }
  const putter = options.putter;
  if (!putter) throw new Error('reput mode needs a producer');
  const result = await reputRecords(records, putter);
  if (result.ok) return { redriven: result.written };
  const first = result.failures[0]!;
  return { redriven: result.written, failure: `${result.failures.length} record(s) not written, first ${first.sequenceNumber}: ${first.error}` };
}
