/** The pure rule modules: response interpretation, failure planning, batch assembly, windows, cadence, checkpoint. */
import { describe, expect, it } from 'vitest';
import { assembleBatch, EVENT_ENVELOPE_BYTES, type BufferedRecord } from '../../local/esm/batch-assembly';
import { interpretResponse } from '../../local/esm/batch-response';
import { CheckpointTracker } from '../../local/esm/checkpoint-tracker';
import { expiredPrefixLength, planAfterFailure, retryDelayMs } from '../../local/esm/failure-plan';
import { laneOf } from '../../local/esm/lanes';
import { buildOnFailureRecord } from '../../local/esm/on-failure-record';
import { nextPollDelayMs } from '../../local/esm/poll-cadence';
import type { StreamRecord } from '../../local/esm/stream-record';
import { formatWindowTime, stateSizeBytes, windowClosable, windowOf } from '../../local/esm/tumbling-window';

const SEQS = ['100', '200', '300', '400'];
const plain = { reportBatchItemFailures: true, tumblingWindow: false };

describe('interpretResponse (services-kinesis-batchfailurereporting)', () => {
  it('lowest reported sequence number wins', () => {
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: '400' }, { itemIdentifier: '200' }] }, SEQS, plain)).toEqual({ kind: 'partial', failedIndex: 1 });
  });
  it.each([[null], [undefined], [{}], [{ batchItemFailures: [] }], [{ batchItemFailures: null }]])('success for %j', (response) => {
    expect(interpretResponse(response, SEQS, plain).kind).toBe('success');
  });
  it.each([
    [{ batchItemFailures: [{ itemIdentifier: '' }] }],
    [{ batchItemFailures: [{ itemIdentifier: null }] }],
    [{ batchItemFailures: [{ id: '200' }] }],
    [{ batchItemFailures: [null] }],
    [{ batchItemFailures: [{ itemIdentifier: 200 }] }],
    [{ batchItemFailures: [{ itemIdentifier: '999' }] }],
    [{ batchItemFailures: {} }],
    ['ok'],
    [[1]],
  ])('whole-batch failure for %j', (response) => {
    expect(interpretResponse(response, SEQS, plain).kind).toBe('failure');
  });
  it('ignores the response without ReportBatchItemFailures', () => {
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: '' }] }, SEQS, { ...plain, reportBatchItemFailures: false }).kind).toBe('success');
  });
  it('tumbling window: no state = failure; state is carried', () => {
    const rules = { reportBatchItemFailures: false, tumblingWindow: true };
    expect(interpretResponse({}, SEQS, rules).kind).toBe('failure');
    expect(interpretResponse(null, SEQS, rules).kind).toBe('failure');
    expect(interpretResponse({ state: { n: 1 } }, SEQS, rules)).toEqual({ kind: 'success', state: { n: 1 } });
    expect(interpretResponse({ state: {}, batchItemFailures: [{ itemIdentifier: '300' }] }, SEQS, { ...rules, reportBatchItemFailures: true })).toEqual({
      kind: 'partial',
      failedIndex: 2,
      state: {},
    });
  });
});

describe('planAfterFailure', () => {
  const policy = (bisect: boolean, max: number) => ({ bisectBatchOnFunctionError: bisect, maximumRetryAttempts: max });
  it('retries without bisect, consuming a retry, until MaximumRetryAttempts', () => {
    expect(planAfterFailure({ kind: 'failure' }, 4, 0, policy(false, 2))).toEqual({ action: 'retry', from: 0, retry: 1 });
    expect(planAfterFailure({ kind: 'failure' }, 4, 2, policy(false, 2))).toEqual({ action: 'discard', from: 0 });
    expect(planAfterFailure({ kind: 'failure' }, 4, 5000, policy(false, -1))).toEqual({ action: 'retry', from: 0, retry: 5001 });
  });
  it('bisects a failing batch of 2+ records without consuming retries', () => {
    expect(planAfterFailure({ kind: 'failure' }, 5, 0, policy(true, 0))).toEqual({ action: 'bisect', at: 3 });
    expect(planAfterFailure({ kind: 'failure' }, 1, 0, policy(true, 0))).toEqual({ action: 'discard', from: 0 });
  });
  it('partial response: retry from the failure; with bisect, split there', () => {
    expect(planAfterFailure({ kind: 'partial', failedIndex: 2 }, 4, 0, policy(false, 3))).toEqual({ action: 'retry', from: 2, retry: 1 });
    expect(planAfterFailure({ kind: 'partial', failedIndex: 2 }, 4, 0, policy(true, 3))).toEqual({ action: 'split-at-failure', at: 2 });
    expect(planAfterFailure({ kind: 'partial', failedIndex: 0 }, 4, 3, policy(true, 3))).toEqual({ action: 'discard', from: 0 });
  });
  it('retry delay doubles up to the cap', () => {
    expect([1, 2, 3, 4, 10].map((r) => retryDelayMs(r, 100, 500))).toEqual([100, 200, 400, 500, 500]);
  });
  it('expired prefix by MaximumRecordAgeInSeconds', () => {
    expect(expiredPrefixLength([0, 1000, 70_000], 70_500, 60)).toBe(2);
    expect(expiredPrefixLength([0], 10_000_000, -1)).toBe(0);
  });
});

function record(i: number, size = 100, arrivalMs = 0): StreamRecord {
  return { shardId: 's', sequenceNumber: String(i), partitionKey: 'k', arrivalMs, event: {} as StreamRecord['event'], size, data: new Uint8Array() };
}
const buffered = (records: StreamRecord[], at = 0): BufferedRecord[] => records.map((r) => ({ record: r, bufferedAt: at }));

describe('assembleBatch', () => {
  const limits = { batchSize: 3, maximumBatchingWindowInSeconds: 0 };
  it('takes up to BatchSize', () => {
    const result = assembleBatch(buffered([1, 2, 3, 4].map((i) => record(i))), 0, limits);
    expect(result.records.map((r) => r.sequenceNumber)).toEqual(['1', '2', '3']);
    expect(result.trigger).toBe('full');
  });
  it('waits for the batching window unless full', () => {
    const window = { batchSize: 3, maximumBatchingWindowInSeconds: 2 };
    expect(assembleBatch(buffered([record(1)], 1000), 1500, window)).toEqual({ records: [], trigger: undefined, readyAt: 3000 });
    expect(assembleBatch(buffered([record(1)], 1000), 3000, window).trigger).toBe('window-expired');
    expect(assembleBatch(buffered([record(1)], 1000), 1500, window, { flush: true }).trigger).toBe('flush');
  });
  it('stops before the payload cap', () => {
    const result = assembleBatch(buffered([record(1, 400), record(2, 400), record(3, 400)]), 0, { ...limits, payloadLimitBytes: 802 + EVENT_ENVELOPE_BYTES });
    expect(result.records.map((r) => r.sequenceNumber)).toEqual(['1', '2']);
    expect(result.trigger).toBe('payload-limit');
  });
  it('stops at a group boundary (another tumbling window)', () => {
    const result = assembleBatch(buffered([record(1, 10, 0), record(2, 10, 5000)]), 0, limits, { sameGroup: (a, b) => a.arrivalMs === b.arrivalMs });
    expect(result.records.map((r) => r.sequenceNumber)).toEqual(['1']);
    expect(result.trigger).toBe('boundary');
  });
});

describe('tumbling window helpers', () => {
  it('aligns windows to multiples of the length since the epoch', () => {
    const at = Date.parse('2020-12-09T07:05:13.250Z');
    const window = windowOf(at, 120);
    expect([formatWindowTime(window.startMs), formatWindowTime(window.endMs)]).toEqual(['2020-12-09T07:04:00Z', '2020-12-09T07:06:00Z']);
  });
  it('closes a window once nothing of it can still arrive', () => {
    const window = { startMs: 0, endMs: 1000 };
    expect(windowClosable(window, { latestArrivalMs: 999, lastPollStartedAt: 999, shardEnded: false })).toBe(false);
    expect(windowClosable(window, { latestArrivalMs: 1000, lastPollStartedAt: 0, shardEnded: false })).toBe(true);
    expect(windowClosable(window, { latestArrivalMs: 0, lastPollStartedAt: 1000, shardEnded: false })).toBe(true);
    expect(windowClosable(window, { latestArrivalMs: 0, lastPollStartedAt: 0, shardEnded: true })).toBe(true);
  });
  it('measures state in UTF-8 JSON bytes', () => {
    expect(stateSizeBytes({ a: 'é' })).toBe(Buffer.byteLength('{"a":"é"}'));
  });
});

describe('poll cadence', () => {
  const timing = { pollIntervalMs: 1000, busyPollIntervalMs: 200 };
  it('polls once per second when caught up, faster while behind', () => {
    expect(nextPollDelayMs(0, 5000, timing)).toBe(1000);
    expect(nextPollDelayMs(10, 0, timing)).toBe(1000);
    expect(nextPollDelayMs(10, 5000, timing)).toBe(200);
  });
});

describe('lanes and checkpoints', () => {
  it('a partition key always maps to the same lane, within the factor', () => {
    for (const key of ['a', 'b', 'customer-42']) {
      expect(laneOf(key, 7)).toBe(laneOf(key, 7));
      expect(laneOf(key, 7)).toBeGreaterThanOrEqual(0);
      expect(laneOf(key, 7)).toBeLessThan(7);
      expect(laneOf(key, 1)).toBe(0);
    }
    expect(new Set(Array.from({ length: 100 }, (_, i) => laneOf(`k${i}`, 4))).size).toBe(4);
  });
  it('the checkpoint moves only over a contiguous done prefix', () => {
    const tracker = new CheckpointTracker();
    tracker.track(['1', '2', '3', '4']);
    expect(tracker.complete(['2', '3'])).toBeUndefined();
    expect(tracker.pending).toBe(2);
    expect(tracker.complete(['1'])).toBe('3');
    expect(tracker.complete(['4'])).toBe('4');
    expect(tracker.pending).toBe(0);
  });
});

describe('buildOnFailureRecord', () => {
  it('builds the AWS invocation record', () => {
    const record = buildOnFailureRecord({
      shardId: 'shardId-000000000001',
      streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
      functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction',
      requestId: 'c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 1,
      lastOutcome: { ok: false, errorType: 'Unhandled', errorMessage: 'x', durationMs: 1 },
      records: [
        { sequenceNumber: '496011', arrivalMs: Date.parse('2019-11-14T00:38:04.835Z') },
        { sequenceNumber: '496012', arrivalMs: Date.parse('2019-11-14T00:38:05.580Z') },
      ],
      now: Date.parse('2019-11-14T00:38:06.021Z'),
    });
    // The example invocation record of page "Using AWS Lambda with Amazon Kinesis" (batchSize and sequence numbers adapted).
    expect(JSON.stringify(record)).toBe(
      JSON.stringify({
        requestContext: { requestId: 'c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5', functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: '2019-11-14T00:38:06.021Z',
        KinesisBatchInfo: {
          shardId: 'shardId-000000000001',
          startSequenceNumber: '496011',
          endSequenceNumber: '496012',
          approximateArrivalOfFirstRecord: '2019-11-14T00:38:04.835Z',
          approximateArrivalOfLastRecord: '2019-11-14T00:38:05.580Z',
          batchSize: 2,
          streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
        },
      }),
    );
  });
});
