/**
 * The on-failure invocation record (pure). Shape from page "Using AWS Lambda with Amazon Kinesis",
 * Error handling, "Example invocation record" (also page kinesis-on-failure-destination).
 */
import type { InvokeOutcome, OnFailureCondition, OnFailureRecord } from './types';

export interface DiscardedBatch {
  shardId: string;
  streamArn: string;
  functionArn: string;
  requestId: string;
  condition: OnFailureCondition;
  /** Invocations of this batch (0 when it expired before any). */
  approximateInvokeCount: number;
  /** The last invocation's outcome, when there was one. */
  lastOutcome: InvokeOutcome | undefined;
  /** The discarded records, in order (at least one). */
  records: ReadonlyArray<{ sequenceNumber: string; arrivalMs: number }>;
  now: number;
}

export function buildOnFailureRecord(batch: DiscardedBatch): OnFailureRecord {
  const first = batch.records[0];
  const last = batch.records[batch.records.length - 1];
  if (first === undefined || last === undefined) throw new Error('an on-failure record needs at least one record');
  const responseContext: OnFailureRecord['responseContext'] = { statusCode: 200, executedVersion: '$LATEST' };
  // A function error (thrown, timed out, crashed) is reported by Lambda as FunctionError "Unhandled".
  if (batch.lastOutcome !== undefined && !batch.lastOutcome.ok) responseContext.functionError = 'Unhandled';
  return {
    requestContext: {
      requestId: batch.requestId,
      functionArn: batch.functionArn,
      condition: batch.condition,
      approximateInvokeCount: batch.approximateInvokeCount,
    },
    responseContext,
    version: '1.0',
    timestamp: new Date(batch.now).toISOString(),
    KinesisBatchInfo: {
      shardId: batch.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: batch.records.length,
      streamArn: batch.streamArn,
    },
  };
}
