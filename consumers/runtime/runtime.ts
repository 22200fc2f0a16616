/**
 * One invocation, start to finish: decode and validate (rules 1-3), schedule (5, 7), quarantine (4),
 * build the partial batch response (6), log (10) and emit metrics (11). Built once per container by
 * the handler factories; `invoke` runs per batch.
 */
import type { Context, KinesisStreamBatchItemFailure, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createLogger, type Logger } from '../../telemetry/logger';
import { RecordDecoder, shardIdOf } from './decode';
import { Dispatcher, type DispatchHooks, type Unsettled } from './dispatcher';
import { RuntimeInvariantError } from './errors';
import { RuntimeMetrics, type InvocationCounts } from './metrics';
import { resolveSettings, type ConsumerRuntimeOptions, type ResolvedSettings } from './options';
import { flushQuarantine } from './quarantine';
import { ItemStatus, type BatchInfo, type RecordItem } from './record-item';
import { compareSequenceNumbers } from './sequence-number';
import type { AnyEvent } from './types';

/** Runs one record (handler or window reducer); see DispatchHooks.start. */
export interface RecordStarter {
  start(item: RecordItem): Promise<void> | undefined;
}

export interface InvocationResult {
  readonly batchItemFailures: KinesisStreamBatchItemFailure[];
  readonly counts: InvocationCounts;
  /** The timeout guard fired while records were still running. */
  readonly deadlineReached: boolean;
  readonly log: Logger;
}

const QUARANTINE_TIMEOUT = Symbol('quarantine-timeout');

/** Per-invocation tally: successes are counted and dropped; only failures are kept. */
class Outcome {
  processed = 0;
  /** Of `processed`: records the consumer's record filter left out (./record-filter.ts). */
  filtered = 0;
  duplicates = 0;
  readonly toQuarantine: RecordItem[] = [];
  readonly retry: RecordItem[] = [];
  private readonly debug: boolean;

  constructor(private readonly log: Logger) {
    this.debug = log.isLevelEnabled('debug');
  }

  settle(item: RecordItem): void {
    switch (item.status) {
      case ItemStatus.Done:
        this.processed += 1;
        if (this.debug) this.log.debug({ sequenceNumber: item.sequenceNumber, subSequenceNumber: item.subSequenceNumber, eventId: item.eventId, eventType: item.eventType }, 'record processed');
        break;
      case ItemStatus.Filtered:
        // Counted as processed, as Lambda counts a record its FilterCriteria dropped.
        this.processed += 1;
        this.filtered += 1;
        break;
      case ItemStatus.Duplicate:
        this.duplicates += 1;
        if (this.debug) this.log.debug({ sequenceNumber: item.sequenceNumber, eventId: item.eventId }, 'duplicate skipped');
        break;
      case ItemStatus.ToQuarantine:
        this.toQuarantine.push(item);
        break;
      case ItemStatus.Retry:
        this.retry.push(item);
        break;
      default:
        throw new RuntimeInvariantError(`record ${item.sequenceNumber} settled in state ${item.status}`);
    }
  }
}

/**
 * The dispatcher's hooks for one invocation. A class (not closures) so the dispatcher's optimised
 * code sees the same call targets on every invocation instead of deoptimising per batch.
 */
class InvocationHooks implements DispatchHooks {
  constructor(
    private readonly records: readonly KinesisStreamRecord[],
    private readonly batch: BatchInfo,
    private readonly decoder: RecordDecoder,
    private readonly starter: RecordStarter,
    private readonly outcome: Outcome,
    private readonly context: Context,
    /** Timeout margin in ms, or -1 when the context cannot tell the remaining time. */
    private readonly margin: number,
  ) {}

  expand(index: number): RecordItem | RecordItem[] {
    return this.decoder.expand(this.records[index]!, this.batch);
  }

  /** Rules 1-3 run when the record starts: a permanent failure is queued for quarantine. */
  start(item: RecordItem): Promise<void> | undefined {
    return this.decoder.load(item) ? this.starter.start(item) : undefined;
  }

  shouldStop(): boolean {
    return this.margin >= 0 && this.context.getRemainingTimeInMillis() < this.margin;
  }

  settle(item: RecordItem): void {
    this.outcome.settle(item);
  }
}

export class ConsumerRuntime {
  readonly settings: ResolvedSettings;
  readonly log: Logger;
  private readonly decoder: RecordDecoder;
  private readonly metrics: RuntimeMetrics | undefined;

  constructor(options: ConsumerRuntimeOptions<AnyEvent>) {
    this.settings = resolveSettings(options);
    const { consumerName } = this.settings;
    this.log =
      options.logger ??
      createLogger({
        name: consumerName,
        ...(options.redact !== undefined ? { redact: options.redact } : {}),
        ...(options.logDestination !== undefined ? { destination: options.logDestination } : {}),
      });
    this.decoder = new RecordDecoder(this.settings);
    this.metrics = this.settings.metrics ? new RuntimeMetrics(consumerName, this.settings.metrics) : undefined;
  }

  async invoke(
    event: KinesisStreamEvent,
    context: Context,
    starter: RecordStarter,
    mode: { readonly concurrency: number; readonly stopAllOnFailure: boolean },
  ): Promise<InvocationResult> {
    const { settings, decoder } = this;
    const startedAt = settings.now();
    if (event === null || typeof event !== 'object' || !Array.isArray(event.Records)) {
      throw new RuntimeInvariantError('event.Records is not an array: this is not a Kinesis event');
    }
    const records = event.Records;
    const topShardId = (event as { shardId?: unknown }).shardId;
    const shardId = typeof topShardId === 'string' ? topShardId : shardIdOf(records[0]?.eventID);
    // With X-Ray tracing the Lambda runtime sets _X_AMZN_TRACE_ID per invocation: every line of the
    // invocation carries it, beside the records' envelope traceId, so a trace and its records meet.
    const xrayTraceId = process.env['_X_AMZN_TRACE_ID'];
    const log = this.log.child({ requestId: context?.awsRequestId, functionName: context?.functionName, shardId, ...(xrayTraceId ? { xrayTraceId } : {}) });
    const oldestArrivalMs = decoder.check(records);
    const outcome = new Outcome(log);

    // Rule 7, timeout guard ("Lambda with Kinesis": a timed-out invocation is retried whole).
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
    const remainingAtStart = remaining ? remaining() : Infinity;
    const margin = Math.min(settings.timeoutMarginMs, remainingAtStart / 2);
    let timer: NodeJS.Timeout | undefined;
    let deadlineReached = false;
    const deadline = Number.isFinite(remainingAtStart)
      ? new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            deadlineReached = true;
            resolve();
          }, Math.max(0, remainingAtStart - margin));
        })
      : undefined;

    const hooks = new InvocationHooks(records, { shardId, log }, decoder, starter, outcome, context, remaining !== undefined ? margin : -1);
    const dispatcher = new Dispatcher(records.length, mode.concurrency, mode.stopAllOnFailure, hooks);
    let unsettled: Unsettled;
    let quarantined = 0;
    try {
      const run = dispatcher.run();
      if (deadline) {
        await Promise.race([run, deadline]);
        if (deadlineReached) {
          dispatcher.stop();
          run.catch(() => undefined); // still-running handlers finish in the background; their records are redelivered
        }
      } else {
        await run;
      }
      unsettled = dispatcher.unsettled();
      if (deadlineReached) {
        for (const item of outcome.toQuarantine) outcome.retry.push(item); // no time left to write them
        outcome.toQuarantine.length = 0;
      } else {
        quarantined = await this.quarantine(outcome, unsettled, records, log, deadline);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return this.finish(outcome, unsettled, dispatcher.itemsSeen, records, quarantined, oldestArrivalMs, startedAt, deadlineReached, log, context?.awsRequestId);
  }

  /** The lowest sequence number Lambda must redeliver from, if any. */
  private lowest(outcome: Outcome, unsettled: Unsettled, records: readonly KinesisStreamRecord[]): string | undefined {
    let lowest: string | undefined =
      unsettled.firstUnexpandedRecord !== undefined ? records[unsettled.firstUnexpandedRecord]!.kinesis.sequenceNumber : undefined;
    for (const list of [outcome.retry, unsettled.items]) {
      for (const item of list) {
        if (lowest === undefined || compareSequenceNumbers(item.sequenceNumber, lowest) < 0) lowest = item.sequenceNumber;
      }
    }
    return lowest;
  }

  /**
   * Quarantine the permanent failures before the first record that will be redelivered anyway
   * (later ones come back with the retry and are quarantined then, so the queue gets no duplicates).
   * Returns how many were written.
   */
  private async quarantine(
    outcome: Outcome,
    unsettled: Unsettled,
    records: readonly KinesisStreamRecord[],
    log: Logger,
    deadline: Promise<void> | undefined,
  ): Promise<number> {
    if (outcome.toQuarantine.length === 0) return 0;
    const firstRetry = this.lowest(outcome, unsettled, records);
    const batch: RecordItem[] = [];
    for (const item of outcome.toQuarantine) {
      if (firstRetry !== undefined && compareSequenceNumbers(item.sequenceNumber, firstRetry) >= 0) {
        item.status = ItemStatus.Retry;
        item.transient = 'blocked-by-earlier-failure';
        outcome.retry.push(item);
      } else {
        batch.push(item);
      }
    }
    outcome.toQuarantine.length = 0;
    if (batch.length === 0) return 0;
    const flush = flushQuarantine(batch, this.settings.quarantine, this.settings.consumerName, new Date(this.settings.now()));
    const result = deadline ? await Promise.race([flush, deadline.then(() => QUARANTINE_TIMEOUT)]) : await flush;
    if (result === QUARANTINE_TIMEOUT) {
      log.error({ records: batch.length }, 'quarantine write did not finish before the timeout guard; records will be redelivered');
    } else if (result !== undefined) {
      log.error({ err: result, records: batch.length }, 'quarantine write failed; records will be redelivered');
    }
    let written = 0;
    for (const item of batch) {
      if (item.status === ItemStatus.Quarantined) {
        written += 1;
        const failure = item.permanent!;
        log.warn(
          { ...this.recordFields(item), kind: failure.kind, reason: failure.message, ...(failure.issues ? { issues: failure.issues } : {}) },
          'record quarantined',
        );
      } else {
        if (item.status !== ItemStatus.Retry) {
          item.status = ItemStatus.Retry;
          item.transient = 'quarantine-failed';
        }
        outcome.retry.push(item);
      }
    }
    return written;
  }

  private finish(
    outcome: Outcome,
    unsettled: Unsettled,
    itemsSeen: number,
    records: readonly KinesisStreamRecord[],
    quarantined: number,
    oldestArrivalMs: number,
    startedAt: number,
    deadlineReached: boolean,
    log: Logger,
    requestId: string | undefined,
  ): InvocationResult {
    const debug = log.isLevelEnabled('debug');
    let handlerErrors = 0;
    for (const item of outcome.retry) {
      if (item.transient === 'handler-error' || item.transient === 'idempotency-error') {
        handlerErrors += 1;
        log.error({ ...this.recordFields(item), kind: item.transient, err: item.transientError }, 'record failed; it will be redelivered');
      } else if (debug) {
        log.debug({ ...this.recordFields(item), kind: item.transient }, 'record will be redelivered');
      }
    }
    for (const item of unsettled.items) {
      item.transient = 'unfinished';
      if (debug) log.debug({ ...this.recordFields(item), kind: item.transient }, 'record will be redelivered');
    }
    const unexpanded = unsettled.firstUnexpandedRecord !== undefined ? records.length - unsettled.firstUnexpandedRecord : 0;
    // Rule 6 ("Configuring partial batch response with Kinesis Data Streams and Lambda"): the response is
    // {batchItemFailures: [{itemIdentifier: <sequence number>}]}; Lambda checkpoints at the lowest reported
    // sequence number and retries from there, so exactly that one identifier is reported (empty list = success).
    const lowest = this.lowest(outcome, unsettled, records);
    const batchItemFailures: KinesisStreamBatchItemFailure[] = lowest !== undefined ? [{ itemIdentifier: lowest }] : [];
    const finishedAt = this.settings.now();
    const retried = outcome.retry.length + unsettled.items.length + unexpanded;
    const counts: InvocationCounts = {
      // A KPL aggregate never reached (timeout guard) counts as one record.
      received: itemsSeen + unexpanded,
      processed: outcome.processed,
      quarantined,
      retried,
      duplicates: outcome.duplicates,
      durationMs: finishedAt - startedAt,
      maxRecordAgeMs: Number.isFinite(oldestArrivalMs) ? Math.max(0, Math.round(finishedAt - oldestArrivalMs)) : 0,
    };
    const summary = {
      ...counts,
      ...(outcome.filtered > 0 ? { filtered: outcome.filtered } : {}),
      ...(lowest !== undefined ? { retryFromSequenceNumber: lowest } : {}),
      ...(deadlineReached ? { timeoutGuard: true } : {}),
    };
    if (retried > 0) log.warn({ ...summary, handlerErrors }, 'batch partly failed');
    else log.info(summary, 'batch processed');
    this.metrics?.emit(counts, finishedAt, requestId);
    return { batchItemFailures, counts, deadlineReached, log };
  }

  private recordFields(item: RecordItem): Record<string, unknown> {
    const fields: Record<string, unknown> = { sequenceNumber: item.sequenceNumber };
    if (item.subSequenceNumber !== undefined) fields['subSequenceNumber'] = item.subSequenceNumber;
    if (item.eventId !== undefined) {
      fields['eventId'] = item.eventId;
      fields['eventType'] = item.eventType;
    }
    if (item.traceId !== undefined) fields['traceId'] = item.traceId;
    return fields;
  }
}
