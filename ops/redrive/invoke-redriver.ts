/**
 * Re-invokes a consumer with the records of a failed batch, the way its event source mapping would:
 * one RequestResponse invocation per batch with the mapping's exact event shape, then the response
 * read with Lambda's partial-batch rules. Both come from the local event source mapping (local/esm:
 * `toStreamRecord`, `interpretResponse`), so the local runner and a redrive build and read the same
 * event — one implementation. A partial response resumes from the lowest reported sequence number; a
 * whole-batch failure retries the remaining records; both bounded by `maxAttempts`.
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { interpretResponse } from '../../local/esm/batch-response';
import { toStreamRecord, type EventRecordContext } from '../../local/esm/stream-record';
import type { KinesisEvent } from '../../local/esm/types';
import { invokeRequestResponse } from '../aws/lambda-invoker';

export interface InvokeRedriveOptions {
  readonly lambda: LambdaClient;
  readonly functionName: string;
  /** shardId, invokeIdentityArn, awsRegion, eventSourceARN of every event record. */
  readonly eventContext: EventRecordContext;
  readonly reportBatchItemFailures: boolean;
  /** Invocations per batch before giving up (default 3). */
  readonly maxAttempts?: number;
  /** Records per invocation (the mapping's BatchSize); a larger range is sent in several batches, in order. */
  readonly batchSize?: number;
}

export interface InvokeAttempt {
  readonly records: number;
  readonly firstSequenceNumber: string;
  readonly verdict: string;
}

export interface InvokeRedriveResult {
  readonly ok: boolean;
  /** Records acknowledged by the function. */
  readonly succeeded: number;
  /** First sequence number not acknowledged (when not ok). */
  readonly failedFrom?: string;
  readonly reason?: string;
  readonly attempts: readonly InvokeAttempt[];
}

/** The event source mapping's invocation event for `records` (all of one shard). */
export function buildKinesisEvent(records: readonly _Record[], context: EventRecordContext): KinesisEvent {
  return { Records: records.map((record) => toStreamRecord(record, context).event) };
}

export async function redriveByInvoke(records: readonly _Record[], options: InvokeRedriveOptions): Promise<InvokeRedriveResult> {
  const maxAttempts = options.maxAttempts ?? 3;
  const batchSize = options.batchSize ?? 10_000;
  const rules = { reportBatchItemFailures: options.reportBatchItemFailures, tumblingWindow: false };
  const attempts: InvokeAttempt[] = [];
  let succeeded = 0;
  for (let offset = 0; offset < records.length; offset += batchSize) {
    let remaining = records.slice(offset, offset + batchSize);
    let lastReason = '';
    let done = false;
    for (let attempt = 1; attempt <= maxAttempts && !done; attempt++) {
      const sequenceNumbers = remaining.map((r) => r.SequenceNumber!);
      const result = await invokeRequestResponse(options.lambda, options.functionName, buildKinesisEvent(remaining, options.eventContext));
      // A function error fails the whole batch; otherwise the response decides (partial batch response rules).
      const verdict =
        result.functionError !== undefined
          ? { kind: 'failure' as const, reason: `function error (${result.functionError})${describeError(result.payload)}` }
          : interpretResponse(result.payload, sequenceNumbers, rules);
      if (verdict.kind === 'success') {
        attempts.push({ records: remaining.length, firstSequenceNumber: sequenceNumbers[0]!, verdict: 'success' });
        succeeded += remaining.length;
        done = true;
      } else if (verdict.kind === 'partial') {
        const from = sequenceNumbers[verdict.failedIndex]!;
        attempts.push({ records: remaining.length, firstSequenceNumber: sequenceNumbers[0]!, verdict: `partial: retry from ${from}` });
        succeeded += verdict.failedIndex;
        remaining = remaining.slice(verdict.failedIndex);
        lastReason = `the function reported ${from} as failed`;
      } else {
        attempts.push({ records: remaining.length, firstSequenceNumber: sequenceNumbers[0]!, verdict: `failed: ${verdict.reason}` });
        lastReason = verdict.reason;
      }
    }
    if (!done) {
      return { ok: false, succeeded, failedFrom: remaining[0]!.SequenceNumber!, reason: `${lastReason} (after ${maxAttempts} attempts)`, attempts };
    }
  }
  return { ok: true, succeeded, attempts };
}

function describeError(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null) return '';
  const p = payload as Record<string, unknown>;
  const parts = [p['errorType'], p['errorMessage']].filter((v): v is string => typeof v === 'string');
  return parts.length === 0 ? '' : `: ${parts.join(': ')}`;
}
