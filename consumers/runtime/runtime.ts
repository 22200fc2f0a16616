/**
 * One invocation, start to finish: decode and validate (rules 1-3), schedule (5, 7), quarantine (4),
 * build the partial batch response (6), log (10) and emit metrics (11). Built once per container by
 * the handler factories; `invoke` runs per batch.
 */
import type { Context, KinesisStreamBatchItemFailure, KinesisStreamEvent } from 'aws-lambda';
import { createLogger, type Logger } from '../../telemetry/logger';
import { RecordDecoder, shardIdOf } from './decode';
import { Dispatcher } from './dispatcher';
import { RuntimeInvariantError } from './errors';
import { RuntimeMetrics, type InvocationCounts } from './metrics';
import { resolveSettings, type ConsumerRuntimeOptions, type ResolvedSettings } from './options';
import { flushQuarantine } from './quarantine';
import { ItemStatus, type RecordItem } from './record-item';
import { compareSequenceNumbers } from './sequence-number';
import type { AnyEvent } from './types';

/** Runs one record (handler or window reducer); see DispatchHooks.start. */
export interface RecordStarter {
  start(item: RecordItem): Promise<void> | undefined;
}

export interface InvocationResult {
  readonly items: readonly RecordItem[];
  readonly batchItemFailures: KinesisStreamBatchItemFailure[];
  readonly counts: InvocationCounts;
  /** The timeout guard fired while records were still running. */
  readonly deadlineReached: boolean;
  readonly log: Logger;
}

const QUARANTINE_TIMEOUT = Symbol('quarantine-timeout');

function isUnsettledBeforeQuarantine(item: RecordItem): boolean {
  return item.status === ItemStatus.Pending || item.status === ItemStatus.Running || item.status === ItemStatus.Retry;
}

/** The unsettled item with the lowest sequence number (sub-sequences share their record's number). */
function lowestOf(items: readonly RecordItem[], unsettled: (item: RecordItem) => boolean): RecordItem | undefined {
  let lowest: RecordItem | undefined;
  for (const item of items) {
    if (unsettled(item) && (lowest === undefined || compareSequenceNumbers(item.sequenceNumber, lowest.sequenceNumber) < 0)) {
      lowest = item;
    }
  }
  return lowest;
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
    const { settings } = this;
    const startedAt = settings.now();
    if (event === null || typeof event !== 'object' || !Array.isArray(event.Records)) {
      throw new RuntimeInvariantError('event.Records is not an array: this is not a Kinesis event');
    }
    const records = event.Records;
    const topShardId = (event as { shardId?: unknown }).shardId;
    const shardId = typeof topShardId === 'string' ? topShardId : shardIdOf(records[0]?.eventID);
    const log = this.log.child({ requestId: context?.awsRequestId, functionName: context?.functionName, shardId });
    const { items, oldestArrivalMs } = this.decoder.decode(records, shardId, log);

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

    const decoder = this.decoder;
    const dispatcher = new Dispatcher(items, mode.concurrency, mode.stopAllOnFailure, {
      // Rules 1-3 run when the record starts: a permanent failure is queued for quarantine.
      start: (item) => (decoder.load(item) ? starter.start(item) : undefined),
      shouldStop: remaining ? () => remaining() < margin : () => false,
    });
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
      if (!deadlineReached) await this.quarantine(items, log, deadline);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return this.finish(items, oldestArrivalMs, startedAt, deadlineReached, log, context?.awsRequestId);
  }

  /**
   * Quarantine the permanent failures before the first record that will be redelivered anyway
   * (later ones come back with the retry and are quarantined then, so the queue gets no duplicates).
   */
  private async quarantine(items: readonly RecordItem[], log: Logger, deadline: Promise<void> | undefined): Promise<void> {
    const firstRetry = lowestOf(items, isUnsettledBeforeQuarantine);
    const batch: RecordItem[] = [];
    for (const item of items) {
      if (item.status !== ItemStatus.ToQuarantine) continue;
      if (firstRetry !== undefined && compareSequenceNumbers(item.sequenceNumber, firstRetry.sequenceNumber) >= 0) {
        item.status = ItemStatus.Retry;
        item.transient = 'blocked-by-earlier-failure';
      } else {
        batch.push(item);
      }
    }
    if (batch.length === 0) return;
    const flush = flushQuarantine(batch, this.settings.quarantine, this.settings.consumerName, new Date(this.settings.now()));
    const outcome = deadline ? await Promise.race([flush, deadline.then(() => QUARANTINE_TIMEOUT)]) : await flush;
    if (outcome === QUARANTINE_TIMEOUT) {
      log.error({ records: batch.length }, 'quarantine write did not finish before the timeout guard; records will be redelivered');
    } else if (outcome !== undefined) {
      log.error({ err: outcome, records: batch.length }, 'quarantine write failed; records will be redelivered');
    }
  }

  private finish(
    items: readonly RecordItem[],
    oldestArrivalMs: number,
    startedAt: number,
    deadlineReached: boolean,
    log: Logger,
    requestId: string | undefined,
  ): InvocationResult {
    let processed = 0;
    let quarantined = 0;
    let duplicates = 0;
    let retried = 0;
    let handlerErrors = 0;
    let lowest: RecordItem | undefined;
    const debug = log.isLevelEnabled('debug');
    for (const item of items) {
      switch (item.status) {
        case ItemStatus.Done:
          processed += 1;
          if (debug) log.debug(this.recordFields(item), 'record processed');
          break;
        case ItemStatus.Duplicate:
          duplicates += 1;
          if (debug) log.debug(this.recordFields(item), 'duplicate skipped');
          break;
        case ItemStatus.Quarantined: {
          quarantined += 1;
          const failure = item.permanent!;
          log.warn(
            { ...this.recordFields(item), kind: failure.kind, reason: failure.message, ...(failure.issues ? { issues: failure.issues } : {}) },
            'record quarantined',
          );
          break;
        }
        default: {
          retried += 1;
          if (item.transient === undefined || item.status !== ItemStatus.Retry) item.transient = 'unfinished';
          if (lowest === undefined || compareSequenceNumbers(item.sequenceNumber, lowest.sequenceNumber) < 0) lowest = item;
          if (item.transient === 'handler-error' || item.transient === 'idempotency-error') {
            handlerErrors += 1;
            log.error({ ...this.recordFields(item), kind: item.transient, err: item.transientError }, 'record failed; it will be redelivered');
          } else if (debug) {
            log.debug({ ...this.recordFields(item), kind: item.transient }, 'record will be redelivered');
          }
        }
      }
    }
    // Rule 6 ("Reporting batch item failures", Kinesis): Lambda checkpoints at the lowest reported
    // sequence number and retries from there, so exactly that one identifier is reported.
    const batchItemFailures: KinesisStreamBatchItemFailure[] = lowest !== undefined ? [{ itemIdentifier: lowest.sequenceNumber }] : [];
    const finishedAt = this.settings.now();
    const counts: InvocationCounts = {
      received: items.length,
      processed,
      quarantined,
      retried,
      duplicates,
      durationMs: finishedAt - startedAt,
      maxRecordAgeMs: Number.isFinite(oldestArrivalMs) ? Math.max(0, Math.round(finishedAt - oldestArrivalMs)) : 0,
    };
    const summary = {
      ...counts,
      ...(lowest !== undefined ? { retryFromSequenceNumber: lowest.sequenceNumber } : {}),
      ...(deadlineReached ? { timeoutGuard: true } : {}),
    };
    if (retried > 0) log.warn({ ...summary, handlerErrors }, 'batch partly failed');
    else log.info(summary, 'batch processed');
    this.metrics?.emit(counts, finishedAt, requestId);
    return { items, batchItemFailures, counts, deadlineReached, log };
  }

  private recordFields(item: RecordItem): Record<string, unknown> {
    const fields: Record<string, unknown> = { sequenceNumber: item.sequenceNumber };
    if (item.subSequenceNumber !== undefined) fields['subSequenceNumber'] = item.subSequenceNumber;
    if (item.eventId !== undefined) {
      fields['eventId'] = item.eventId;
      fields['eventType'] = item.eventType;
    }
    return fields;
  }
}
