/**
 * Runs one batch to its end: invoke, read the response, then succeed, retry, bisect or discard
 * (rules in ./batch-response.ts and ./failure-plan.ts; every rule cited there). Records leave this
 * module only as processed (checkpointable) or discarded with an on-failure record; when the mapping
 * stops mid-retry they stay pending and are read again from the checkpoint on the next start.
 */
import { randomUUID } from 'node:crypto';
import { interpretResponse, type ResponseVerdict } from './batch-response';
import { expiredPrefixLength, planAfterFailure, retryDelayMs } from './failure-plan';
import type { MappingContext } from './mapping-context';
import { buildOnFailureRecord } from './on-failure-record';
import type { StreamRecord } from './stream-record';
import type { InvokeOutcome, OnFailureCondition } from './types';

export interface BatchHost {
  readonly shardId: string;
  readonly lane: number;
  stopping(): boolean;
  /** Sleep that a stop request cuts short. */
  pause(ms: number): Promise<void>;
  /** The event for these records (plain, or with the current tumbling-window fields). */
  buildEvent(records: readonly StreamRecord[], final?: { terminatedEarly: boolean }): object;
  /** Records the function processed; `state` is the returned window state (tumbling windows). */
  succeeded(records: readonly StreamRecord[], state: unknown): Promise<void>;
  /** Records dropped for good (after the on-failure record is written). */
  discarded(records: readonly StreamRecord[]): void;
}

interface SubBatch {
  records: StreamRecord[];
  /** Retries consumed (bisecting does not consume any). */
  retries: number;
  invokeCount: number;
  lastOutcome: InvokeOutcome | undefined;
}

export async function safeInvoke(ctx: MappingContext, event: object): Promise<InvokeOutcome> {
  const started = Date.now();
  try {
    return await ctx.options.invoke(event);
  } catch (error) {
    // An invoker that throws is a broken sandbox: treat like a crash (a function error).
    return { ok: false, errorType: 'Crashed', errorMessage: error instanceof Error ? error.message : String(error), durationMs: Date.now() - started };
  }
}

function verdictOf(ctx: MappingContext, outcome: InvokeOutcome, sequenceNumbers: readonly string[]): ResponseVerdict {
  if (!outcome.ok) return { kind: 'failure', reason: `${outcome.errorType}: ${outcome.errorMessage}` };
  return interpretResponse(outcome.response, sequenceNumbers, {
    reportBatchItemFailures: ctx.settings.reportBatchItemFailures,
    tumblingWindow: ctx.tumblingWindowInSeconds > 0,
  });
}

/** Write the on-failure record (retrying the sink until it accepts or the mapping stops), then drop the records. */
async function discard(ctx: MappingContext, host: BatchHost, batch: SubBatch, records: StreamRecord[], condition: OnFailureCondition): Promise<boolean> {
  const record = buildOnFailureRecord({
    shardId: host.shardId,
    streamArn: ctx.options.streamArn,
    functionArn: ctx.options.functionArn,
    requestId: randomUUID(),
    condition,
    approximateInvokeCount: batch.invokeCount,
    lastOutcome: batch.lastOutcome,
    records,
    now: ctx.clock.now(),
  });
  if (ctx.settings.onFailureDestination === 'queue') {
    for (;;) {
      try {
        await ctx.options.onFailure.write(record);
        ctx.counters.onFailureRecords++;
        break;
      } catch (error) {
        ctx.logger.error({ err: error, shardId: host.shardId }, 'on-failure destination rejected the record; retrying');
        if (host.stopping()) return false;
        await host.pause(ctx.timing.readErrorBackoffMs);
      }
    }
  } else {
    // No destination configured: Lambda discards the batch (page services-kinesis-parameters, DestinationConfig).
    ctx.logger.warn({ onFailure: record }, 'batch discarded; no on-failure destination configured');
  }
  ctx.counters.recordsDiscarded += records.length;
  ctx.emit({ type: 'discard', shardId: host.shardId, condition, sequenceNumbers: records.map((r) => r.sequenceNumber) });
  host.discarded(records);
  return true;
}

/** Process `records` (one batch, in order) until every record is processed or discarded, or the mapping stops. */
export async function runBatch(ctx: MappingContext, host: BatchHost, records: StreamRecord[]): Promise<void> {
  const policy = {
    bisectBatchOnFunctionError: ctx.settings.bisectBatchOnFunctionError,
    maximumRetryAttempts: ctx.settings.maximumRetryAttempts,
  };
  const queue: SubBatch[] = [{ records, retries: 0, invokeCount: 0, lastOutcome: undefined }];
  let invokedOnce = false;
  ctx.counters.inFlightBatches++;
  try {
    while (queue.length > 0) {
      const batch = queue[0] as SubBatch;
      const expired = expiredPrefixLength(batch.records.map((r) => r.arrivalMs), ctx.clock.now(), ctx.settings.maximumRecordAgeInSeconds);
      if (expired > 0) {
        if (!(await discard(ctx, host, batch, batch.records.slice(0, expired), 'RecordAgeExceeded'))) return;
        batch.records = batch.records.slice(expired);
        if (batch.records.length === 0) {
          queue.shift();
          continue;
        }
      }
      // Graceful stop: finish what was invoked, never start another attempt of a failing batch.
      if (invokedOnce && host.stopping()) return;
      const sequenceNumbers = batch.records.map((r) => r.sequenceNumber);
      ctx.emit({ type: 'invoke', shardId: host.shardId, lane: host.lane, sequenceNumbers });
      ctx.counters.invocations++;
      invokedOnce = true;
      const outcome = await safeInvoke(ctx, host.buildEvent(batch.records));
      batch.invokeCount++;
      batch.lastOutcome = outcome;
      const verdict = verdictOf(ctx, outcome, sequenceNumbers);
      if (verdict.kind === 'success') {
        ctx.emit({ type: 'outcome', shardId: host.shardId, lane: host.lane, result: 'success' });
        queue.shift();
        await host.succeeded(batch.records, verdict.state);
        continue;
      }
      if (verdict.kind === 'failure') {
        ctx.counters.invocationErrors++;
        ctx.emit({ type: 'outcome', shardId: host.shardId, lane: host.lane, result: 'failure', reason: verdict.reason });
        ctx.logger.warn({ shardId: host.shardId, lane: host.lane, records: batch.records.length, reason: verdict.reason }, 'batch failed');
      } else {
        ctx.emit({ type: 'outcome', shardId: host.shardId, lane: host.lane, result: 'partial' });
        if (verdict.failedIndex > 0) await host.succeeded(batch.records.slice(0, verdict.failedIndex), verdict.state);
      }
      const plan = planAfterFailure(
        verdict.kind === 'partial' ? { kind: 'partial', failedIndex: verdict.failedIndex } : { kind: 'failure' },
        batch.records.length,
        batch.retries,
        policy,
      );
      switch (plan.action) {
        case 'bisect':
        case 'split-at-failure': {
          const left = batch.records.slice(0, plan.at);
          const right = batch.records.slice(plan.at);
          ctx.counters.bisects++;
          ctx.emit({
            type: 'bisect',
            shardId: host.shardId,
            lane: host.lane,
            left: left.map((r) => r.sequenceNumber),
            right: right.map((r) => r.sequenceNumber),
          });
          const fresh = (part: StreamRecord[]): SubBatch => ({ records: part, retries: batch.retries, invokeCount: 0, lastOutcome: undefined });
          // After a split at the failure, the left part already succeeded.
          queue.splice(0, 1, ...(plan.action === 'bisect' ? [fresh(left), fresh(right)] : [fresh(right)]));
          break;
        }
        case 'retry': {
          batch.records = batch.records.slice(plan.from);
          batch.retries = plan.retry;
          ctx.counters.retries++;
          const delayMs = retryDelayMs(plan.retry, ctx.timing.retryBaseDelayMs, ctx.timing.retryMaxDelayMs);
          ctx.emit({ type: 'retry', shardId: host.shardId, lane: host.lane, sequenceNumbers: batch.records.map((r) => r.sequenceNumber), retry: plan.retry, delayMs });
          await host.pause(delayMs);
          break;
        }
        case 'discard': {
          queue.shift();
          if (!(await discard(ctx, host, batch, batch.records.slice(plan.from), 'RetryAttemptsExhausted'))) return;
          break;
        }
      }
    }
  } finally {
    ctx.counters.inFlightBatches--;
  }
}

/**
 * The final invocation of a tumbling window (no records, `isFinalInvokeForWindow: true`). Page
 * "Time windows": "If invocation is unsuccessful, your Lambda function suspends further processing
 * until a successful invocation", within the retry policy ("Tumbling windows fully support the
 * existing retry policies"). With retries exhausted there are no records to report: the state is
 * dropped and logged as an error. Returns false when the mapping stopped first.
 */
export async function runFinalInvoke(ctx: MappingContext, host: BatchHost, terminatedEarly: boolean): Promise<boolean> {
  const policy = { bisectBatchOnFunctionError: false, maximumRetryAttempts: ctx.settings.maximumRetryAttempts };
  let retries = 0;
  ctx.counters.inFlightBatches++;
  try {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && host.stopping()) return false;
      ctx.emit({ type: 'invoke', shardId: host.shardId, lane: host.lane, sequenceNumbers: [], final: true, terminatedEarly });
      ctx.counters.invocations++;
      const outcome = await safeInvoke(ctx, host.buildEvent([], { terminatedEarly }));
      const verdict = verdictOf(ctx, outcome, []);
      if (verdict.kind === 'success') {
        ctx.emit({ type: 'outcome', shardId: host.shardId, lane: host.lane, result: 'success' });
        return true;
      }
      ctx.counters.invocationErrors++;
      const reason = verdict.kind === 'failure' ? verdict.reason : 'partial response to a final invoke';
      ctx.emit({ type: 'outcome', shardId: host.shardId, lane: host.lane, result: 'failure', reason });
      const plan = planAfterFailure({ kind: 'failure' }, 0, retries, policy);
      if (plan.action === 'discard') {
        ctx.logger.error({ shardId: host.shardId, reason }, 'final window invocation exhausted its retries; window state dropped');
        return true;
      }
      if (plan.action !== 'retry') return true;
      retries = plan.retry;
      ctx.counters.retries++;
      const delayMs = retryDelayMs(retries, ctx.timing.retryBaseDelayMs, ctx.timing.retryMaxDelayMs);
      ctx.emit({ type: 'retry', shardId: host.shardId, lane: host.lane, sequenceNumbers: [], retry: retries, delayMs });
      await host.pause(delayMs);
    }
  } finally {
    ctx.counters.inFlightBatches--;
  }
}
