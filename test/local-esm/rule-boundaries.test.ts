/**
 * The boundaries of the pure rule modules of local/esm (issue 19: the mutants rules.test.ts let survive).
 * Each case pins one AWS rule at its edge (../shared/reference/aws-kinesis-lambda.md and the AWS page
 * named in the module), against values computed independently of the code under test.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assembleBatch, EVENT_ENVELOPE_BYTES, MAX_INVOCATION_PAYLOAD_BYTES, type BufferedRecord } from '../../local/esm/batch-assembly';
import { interpretResponse } from '../../local/esm/batch-response';
import { CheckpointTracker } from '../../local/esm/checkpoint-tracker';
import { expiredPrefixLength, planAfterFailure, retryDelayMs } from '../../local/esm/failure-plan';
import { laneOf } from '../../local/esm/lanes';
import { buildOnFailureRecord, type DiscardedBatch } from '../../local/esm/on-failure-record';
import { nextPollDelayMs } from '../../local/esm/poll-cadence';
import type { StreamRecord } from '../../local/esm/stream-record';
import type { KinesisEventRecord } from '../../local/esm/types';
import { buildWindowEvent, formatWindowTime, stateSizeBytes, WINDOW_STATE_LIMIT_BYTES, windowEventOverheadBytes, windowOf } from '../../local/esm/tumbling-window';

function record(i: number, size = 100, arrivalMs = 0): StreamRecord {
  return { shardId: 's', sequenceNumber: String(i), partitionKey: 'k', arrivalMs, event: {} as StreamRecord['event'], size, data: new Uint8Array() };
}
const buffered = (records: StreamRecord[], at = 0): BufferedRecord[] => records.map((r) => ({ record: r, bufferedAt: at }));
const seqs = (batch: { records: StreamRecord[] }) => batch.records.map((r) => r.sequenceNumber);

describe('assembleBatch: when Lambda invokes (full batch, window expiry, 6 MB payload)', () => {
  it('an empty buffer never invokes', () => {
    expect(assembleBatch([], 0, { batchSize: 3, maximumBatchingWindowInSeconds: 0 })).toStrictEqual({ records: [], trigger: undefined, readyAt: undefined });
    expect(assembleBatch([], 0, { batchSize: 3, maximumBatchingWindowInSeconds: 5 }, { flush: true })).toStrictEqual({ records: [], trigger: undefined, readyAt: undefined });
  });

  it('a batch of exactly BatchSize records is invoked at once, without waiting for the batching window', () => {
    const result = assembleBatch(buffered([record(1), record(2), record(3)], 1000), 1000, { batchSize: 3, maximumBatchingWindowInSeconds: 10 });
    expect(result).toStrictEqual({ records: [record(1), record(2), record(3)], trigger: 'full', readyAt: undefined });
    // A full batch is 'full' even when the caller also flushes.
    expect(assembleBatch(buffered([record(1), record(2), record(3)]), 0, { batchSize: 3, maximumBatchingWindowInSeconds: 10 }, { flush: true }).trigger).toBe('full');
  });

  it('MaximumBatchingWindowInSeconds 0 (the default): a partial batch is invoked at once', () => {
    expect(assembleBatch(buffered([record(1)]), 0, { batchSize: 3, maximumBatchingWindowInSeconds: 0 })).toStrictEqual({
      records: [record(1)],
      trigger: 'no-window',
      readyAt: undefined,
    });
  });

  it('the batching window counts from the oldest buffered record', () => {
    const buffer: BufferedRecord[] = [
      { record: record(1), bufferedAt: 1000 },
      { record: record(2), bufferedAt: 2500 },
    ];
    const limits = { batchSize: 10, maximumBatchingWindowInSeconds: 2 };
    expect(assembleBatch(buffer, 2999, limits)).toStrictEqual({ records: [], trigger: undefined, readyAt: 3000 });
    expect(assembleBatch(buffer, 3000, limits)).toStrictEqual({ records: [record(1), record(2)], trigger: 'window-expired', readyAt: undefined });
  });

  it('the payload counts each record plus the comma between records, up to the cap inclusive', () => {
    const limits = { batchSize: 10, maximumBatchingWindowInSeconds: 0 };
    const three = buffered([record(1, 400), record(2, 400), record(3, 400)]);
    // {"Records":[r1,r2]}: envelope + 400 + 1 (comma) + 400 bytes.
    expect(seqs(assembleBatch(three, 0, { ...limits, payloadLimitBytes: EVENT_ENVELOPE_BYTES + 801 }))).toEqual(['1', '2']);
    const short = assembleBatch(three, 0, { ...limits, payloadLimitBytes: EVENT_ENVELOPE_BYTES + 800 });
    expect(seqs(short)).toEqual(['1']);
    expect(short.trigger).toBe('payload-limit');
    // Both records fit exactly when they are the whole buffer (no third record to stop at).
    expect(assembleBatch(buffered([record(1, 400), record(2, 400)]), 0, { ...limits, payloadLimitBytes: EVENT_ENVELOPE_BYTES + 801 })).toStrictEqual({
      records: [record(1, 400), record(2, 400)],
      trigger: 'no-window',
      readyAt: undefined,
    });
  });

  it('a record larger than the cap is still sent, alone (every record is delivered)', () => {
    const result = assembleBatch(buffered([record(1, 1000), record(2, 10)]), 0, { batchSize: 10, maximumBatchingWindowInSeconds: 0, payloadLimitBytes: EVENT_ENVELOPE_BYTES + 500 });
    expect(seqs(result)).toEqual(['1']);
    expect(result.trigger).toBe('payload-limit');
  });

  it('the event envelope around the records is counted', () => {
    expect(EVENT_ENVELOPE_BYTES).toBe(Buffer.byteLength(JSON.stringify({ Records: [] })));
    expect(EVENT_ENVELOPE_BYTES).toBe(14);
  });

  it('the cap defaults to the 6 MB invocation payload quota', () => {
    expect(MAX_INVOCATION_PAYLOAD_BYTES).toBe(6 * 1024 * 1024);
    const half = (6 * 1024 * 1024 - EVENT_ENVELOPE_BYTES - 1) / 2;
    expect(Number.isInteger(half)).toBe(false);
    const limits = { batchSize: 10, maximumBatchingWindowInSeconds: 0 };
    const fits = Math.floor(half);
    expect(seqs(assembleBatch(buffered([record(1, fits), record(2, fits), record(3, 1)]), 0, limits))).toEqual(['1', '2']);
    expect(seqs(assembleBatch(buffered([record(1, fits + 1), record(2, fits + 1)]), 0, limits))).toEqual(['1']);
  });

  it('the tumbling-window fields and state take their bytes from the cap', () => {
    const two = buffered([record(1, 100), record(2, 100)]);
    const limits = { batchSize: 10, maximumBatchingWindowInSeconds: 0, payloadLimitBytes: EVENT_ENVELOPE_BYTES + 201 + 50 };
    expect(seqs(assembleBatch(two, 0, { ...limits, extraEventBytes: 50 }))).toEqual(['1', '2']);
    expect(seqs(assembleBatch(two, 0, { ...limits, extraEventBytes: 51 }))).toEqual(['1']);
  });

  it('a batch stays in the group (tumbling window) of its first record', () => {
    const sameWindow = (a: StreamRecord, b: StreamRecord) => b.arrivalMs - a.arrivalMs < 60;
    const result = assembleBatch(buffered([record(1, 10, 0), record(2, 10, 50), record(3, 10, 100)]), 0, { batchSize: 10, maximumBatchingWindowInSeconds: 0 }, { sameGroup: sameWindow });
    expect(seqs(result)).toEqual(['1', '2']);
    expect(result.trigger).toBe('boundary');
    const one = assembleBatch(buffered([record(1, 10, 0), record(2, 10, 50)]), 0, { batchSize: 10, maximumBatchingWindowInSeconds: 0 }, { sameGroup: sameWindow });
    expect(one).toStrictEqual({ records: [record(1, 10, 0), record(2, 10, 50)], trigger: 'no-window', readyAt: undefined });
  });
});

describe('interpretResponse: the reason a whole batch fails (logged and emitted for operators)', () => {
  const SEQS = ['100', '200', '300'];
  const rules = { reportBatchItemFailures: true, tumblingWindow: false };
  const failure = (reason: string) => ({ kind: 'failure', reason });

  it.each([
    // services-kinesis-batchfailurereporting: an empty-string or null itemIdentifier, or a wrongly named key, fails the batch.
    [{ batchItemFailures: [{ itemIdentifier: '' }] }, 'partial batch response: empty-string itemIdentifier'],
    [{ batchItemFailures: [{ itemIdentifier: null }] }, 'partial batch response: null itemIdentifier'],
    [{ batchItemFailures: [{ itemIdentifier: undefined }] }, 'partial batch response: null itemIdentifier'],
    [{ batchItemFailures: [{ ItemIdentifier: '200' }] }, 'partial batch response: an item has no "itemIdentifier" key'],
    [{ batchItemFailures: ['200'] }, 'partial batch response: an item has no "itemIdentifier" key'],
    [{ batchItemFailures: [{ itemIdentifier: 200 }] }, 'partial batch response: itemIdentifier is not a string'],
    [{ batchItemFailures: [{ itemIdentifier: '999' }] }, 'partial batch response: itemIdentifier "999" is not a sequence number of the batch'],
    [{ batchItemFailures: 'x' }, 'partial batch response: "batchItemFailures" is not a list'],
    [42, 'partial batch response: the response is not a JSON object'],
    [['200'], 'partial batch response: the response is not a JSON object'],
  ])('%j fails the batch: %s', (response, reason) => {
    expect(interpretResponse(response, SEQS, rules)).toStrictEqual(failure(reason));
  });

  it('a bad item after a valid one still fails the whole batch', () => {
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: '200' }, { itemIdentifier: '' }] }, SEQS, rules)).toStrictEqual(
      failure('partial batch response: empty-string itemIdentifier'),
    );
  });

  it('an unknown identifier is quoted in the reason, cut to 80 characters', () => {
    const long = 'x'.repeat(100);
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: long }] }, SEQS, rules)).toStrictEqual(
      failure(`partial batch response: itemIdentifier "${'x'.repeat(80)}" is not a sequence number of the batch`),
    );
  });

  it('without a tumbling window, success and partial carry no state', () => {
    expect(interpretResponse({ batchItemFailures: [] }, SEQS, rules)).toStrictEqual({ kind: 'success' });
    expect(interpretResponse({ batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '100' }] }, SEQS, rules)).toStrictEqual({ kind: 'partial', failedIndex: 0 });
    expect(interpretResponse({ state: { n: 1 } }, SEQS, { reportBatchItemFailures: false, tumblingWindow: false })).toStrictEqual({ kind: 'success' });
  });

  it('tumbling window ("Time windows"): a response without state, or with state undefined, is a failed invocation', () => {
    const window = { reportBatchItemFailures: true, tumblingWindow: true };
    const reason = 'tumbling window: the response has no "state" property';
    expect(interpretResponse({ state: undefined }, SEQS, window)).toStrictEqual(failure(reason));
    expect(interpretResponse({ batchItemFailures: [] }, SEQS, window)).toStrictEqual(failure(reason));
    expect(interpretResponse('state', SEQS, window)).toStrictEqual(failure(reason));
    expect(interpretResponse([{ state: 1 }], SEQS, window)).toStrictEqual(failure(reason));
    expect(interpretResponse({ state: { n: 2 }, batchItemFailures: [] }, SEQS, window)).toStrictEqual({ kind: 'success', state: { n: 2 } });
    expect(interpretResponse({ state: { n: 2 }, batchItemFailures: null }, SEQS, window)).toStrictEqual({ kind: 'success', state: { n: 2 } });
  });
});

describe('planAfterFailure and the retry limits (services-kinesis-parameters)', () => {
  const policy = (bisect: boolean, max: number) => ({ bisectBatchOnFunctionError: bisect, maximumRetryAttempts: max });
  it('MaximumRetryAttempts N allows exactly N retries', () => {
    expect(planAfterFailure({ kind: 'failure' }, 4, 1, policy(false, 2))).toEqual({ action: 'retry', from: 0, retry: 2 });
    expect(planAfterFailure({ kind: 'failure' }, 4, 2, policy(false, 2))).toEqual({ action: 'discard', from: 0 });
    expect(planAfterFailure({ kind: 'failure' }, 4, 0, policy(false, 0))).toEqual({ action: 'discard', from: 0 });
  });
  it('a partial response whose retries are exhausted discards from the failed record, the records before it succeeded', () => {
    expect(planAfterFailure({ kind: 'partial', failedIndex: 2 }, 4, 3, policy(false, 3))).toEqual({ action: 'discard', from: 2 });
  });
  it('bisect splits a batch of two into halves of one', () => {
    expect(planAfterFailure({ kind: 'failure' }, 2, 0, policy(true, 0))).toEqual({ action: 'bisect', at: 1 });
  });
  it('the backoff starts at the base delay', () => {
    expect(retryDelayMs(1, 100, 10_000)).toBe(100);
    expect(retryDelayMs(3, 100, 10_000)).toBe(400);
  });
  it('MaximumRecordAgeInSeconds: a record exactly at the maximum age is not yet expired, one millisecond older is', () => {
    expect(expiredPrefixLength([0], 60_000, 60)).toBe(0);
    expect(expiredPrefixLength([0], 60_001, 60)).toBe(1);
    expect(expiredPrefixLength([], 60_001, 60)).toBe(0);
  });
  it('only the head of the batch expires: counting stops at the first record still young enough', () => {
    expect(expiredPrefixLength([100_000, 0], 130_000, 60)).toBe(0);
    expect(expiredPrefixLength([0, 1, 100_000], 130_000, 60)).toBe(2);
  });
});

describe('lanes: MD5 of the partition key, as Kinesis hashes keys', () => {
  it('picks the lane from the first four bytes of the MD5 digest (UTF-8 key)', () => {
    const expected = (key: string, factor: number) => Buffer.from(createHash('md5').update(Buffer.from(key, 'utf8')).digest()).readUInt32BE(0) % factor;
    // md5("a") = 0cc175b9...: 0x0cc175b9 = 214005177; 214005177 % 7 = 1.
    expect(laneOf('a', 7)).toBe(1);
    // md5("é" as UTF-8) starts 0x66dd5e97 = 1725812119; % 10 = 9.
    expect(laneOf('é', 10)).toBe(9);
    for (const key of ['customer-42', '', 'é', 'order/17']) expect(laneOf(key, 10)).toBe(expected(key, 10));
  });
  it('a factor of 1 (the default) is one lane', () => {
    expect(laneOf('customer-42', 1)).toBe(0);
  });
});

describe('the shard checkpoint', () => {
  it('is undefined until the first record is done, then the highest record of the done prefix', () => {
    const tracker = new CheckpointTracker();
    expect(tracker.checkpoint).toBeUndefined();
    tracker.track(['1', '2', '3']);
    expect(tracker.complete(['2'])).toBeUndefined();
    expect(tracker.checkpoint).toBeUndefined();
    expect(tracker.complete(['1'])).toBe('2');
    expect(tracker.checkpoint).toBe('2');
    expect(tracker.complete([])).toBeUndefined();
    expect(tracker.checkpoint).toBe('2');
  });
  it('stays right over many records, completed out of order (the order list is compacted on the way)', () => {
    const tracker = new CheckpointTracker();
    const all = Array.from({ length: 10_000 }, (_, i) => String(i + 1));
    tracker.track(all);
    // Complete in chunks of 1000, each chunk's second half before its first half.
    for (let start = 0; start < all.length; start += 1000) {
      const chunk = all.slice(start, start + 1000);
      expect(tracker.complete(chunk.slice(500))).toBeUndefined();
      expect(tracker.pending).toBe(all.length - start - 1000 + 500);
      expect(tracker.complete(chunk.slice(0, 500))).toBe(chunk[999]);
    }
    expect(tracker.pending).toBe(0);
    tracker.track(['10001', '10002']);
    expect(tracker.pending).toBe(2);
    expect(tracker.complete(['10001'])).toBe('10001');
    expect(tracker.checkpoint).toBe('10001');
  });
});

describe('buildOnFailureRecord: responseContext.functionError', () => {
  const base: DiscardedBatch = {
    shardId: 'shardId-000000000001',
    streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
    functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction',
    requestId: 'r-1',
    condition: 'RecordAgeExceeded',
    approximateInvokeCount: 0,
    lastOutcome: undefined,
    records: [{ sequenceNumber: '7', arrivalMs: Date.parse('2019-11-14T00:38:04.835Z') }],
    now: Date.parse('2019-11-14T00:38:06.021Z'),
  };
  it('a batch that expired before any invocation has no functionError, and a single record is both start and end', () => {
    const record = buildOnFailureRecord(base);
    expect(record.responseContext).toStrictEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(record.requestContext).toStrictEqual({ requestId: 'r-1', functionArn: base.functionArn, condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
    expect(record.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: '7',
      endSequenceNumber: '7',
      approximateArrivalOfFirstRecord: '2019-11-14T00:38:04.835Z',
      approximateArrivalOfLastRecord: '2019-11-14T00:38:04.835Z',
      batchSize: 1,
    });
  });
  it('a last invocation that returned (a partial response) has no functionError', () => {
    const record = buildOnFailureRecord({ ...base, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, lastOutcome: { ok: true, response: {}, durationMs: 1 } });
    expect(record.responseContext).toStrictEqual({ statusCode: 200, executedVersion: '$LATEST' });
  });
  it('needs at least one record', () => {
    expect(() => buildOnFailureRecord({ ...base, records: [] })).toThrow('an on-failure record needs at least one record');
  });
});

describe('poll cadence', () => {
  it('without MillisBehindLatest the shard counts as caught up (once per second)', () => {
    expect(nextPollDelayMs(10, undefined, { pollIntervalMs: 1000, busyPollIntervalMs: 200 })).toBe(1000);
  });
});

describe('tumbling windows ("Time windows")', () => {
  it('a record arriving exactly at a window start belongs to that window; one millisecond earlier to the previous one', () => {
    expect(windowOf(240_000, 120)).toStrictEqual({ startMs: 240_000, endMs: 360_000 });
    expect(windowOf(239_999, 120)).toStrictEqual({ startMs: 120_000, endMs: 240_000 });
  });
  it('formats window times without milliseconds', () => {
    expect(formatWindowTime(Date.parse('2020-12-09T07:04:00.999Z'))).toBe('2020-12-09T07:04:00Z');
  });
  it('"Your state can be a maximum of 1 MB per shard"', () => {
    expect(WINDOW_STATE_LIMIT_BYTES).toBe(1_048_576);
  });
  it('an absent state weighs as JSON null', () => {
    expect(stateSizeBytes(undefined)).toBe(4);
    expect(stateSizeBytes(null)).toBe(4);
  });
  it('builds the window event of the AWS example', () => {
    const records = [{ eventID: 'shardId-000000000006:1' } as unknown as KinesisEventRecord];
    const event = buildWindowEvent({
      records,
      window: { startMs: Date.parse('2020-12-09T07:04:00Z'), endMs: Date.parse('2020-12-09T07:06:00Z') },
      state: { total: 3 },
      shardId: 'shardId-000000000006',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream',
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
    });
    expect(JSON.stringify(event)).toBe(
      JSON.stringify({
        Records: records,
        window: { start: '2020-12-09T07:04:00Z', end: '2020-12-09T07:06:00Z' },
        state: { total: 3 },
        shardId: 'shardId-000000000006',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream',
        isFinalInvokeForWindow: true,
        isWindowTerminatedEarly: false,
      }),
    );
  });
  it('the window fields and state add at most their own bytes to the event, counted for the 6 MB cap', () => {
    const records = [{ eventID: 'a' }, { eventID: 'b' }] as unknown as KinesisEventRecord[];
    const shardId = 'shardId-000000000006';
    const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream';
    for (const state of [{}, { total: 3, name: 'é'.repeat(50) }, null]) {
      for (const isFinalInvokeForWindow of [false, true]) {
        const event = buildWindowEvent({ records, window: windowOf(Date.parse('2020-12-09T07:05:00Z'), 120), state, shardId, eventSourceARN: arn, isFinalInvokeForWindow, isWindowTerminatedEarly: false });
        const added = Buffer.byteLength(JSON.stringify(event)) - Buffer.byteLength(JSON.stringify({ Records: records }));
        const overhead = windowEventOverheadBytes(state, shardId, arn);
        // Never less than the real bytes (else a batch could exceed 6 MB); at most "null" and one byte of "false" more.
        expect(overhead).toBeGreaterThanOrEqual(added);
        expect(overhead - added).toBeLessThanOrEqual('null'.length + 1);
      }
    }
  });
});
