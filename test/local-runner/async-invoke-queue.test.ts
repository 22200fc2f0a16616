/**
 * The local asynchronous invocation queue at stop (local/lambda/async-invoke-queue.ts): by default a
 * retry waiting for its delay runs at once (a stop never waits minutes); with `waitForRetriesAtStop`
 * (the chaos harness) it keeps its delay, so a retry never comes before a crashed attempt's
 * idempotency lease has ended. Fake timers: the order of events is asserted, not wall-clock time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AsyncInvokeQueue } from '../../local/lambda/async-invoke-queue';
import type { InvocationResult, LocalFunction } from '../../local/lambda/local-function';
import type { NdjsonFile } from '../../local/ndjson-file';

afterEach(() => {
  vi.useRealTimers();
});

/** A function whose attempts fail until `failures` ran out; every attempt is logged with the fake clock. */
function scripted(failures: number) {
  const attempts: number[] = [];
  let left = failures;
  const fn = {
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:review-intake',
    maxConcurrency: Infinity,
    invoke: async (): Promise<InvocationResult> => {
      attempts.push(Date.now());
      if (left-- > 0) {
        return { ok: false, errorType: 'Unhandled', error: { errorType: 'ReviewRequestInProgressError', errorMessage: 'in progress' }, requestId: 'r', logTail: '', sandboxId: 1 } as InvocationResult;
      }
      return { ok: true, payload: '{}', requestId: 'r', logTail: '', sandboxId: 1 } as InvocationResult;
    },
  } as unknown as LocalFunction;
  const failed: unknown[] = [];
  const onFailure = { append: async (record: unknown) => void failed.push(record) } as unknown as NdjsonFile;
  return { fn, onFailure, attempts, failed };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('AsyncInvokeQueue at stop', () => {
  it('by default runs a waiting retry at once, attempts still counted (the failed event ends in on-failure)', async () => {
    vi.useFakeTimers({ now: 0 });
    const f = scripted(3);
    const queue = new AsyncInvokeQueue({ fn: f.fn, onFailure: f.onFailure, retryDelaysMs: [60_000, 120_000] });
    queue.enqueue({ requestId: 'r', payload: '{"a":1}', invokedFunctionArn: f.fn.arn });
    await settle();
    expect(f.attempts).toEqual([0]);
    await queue.drain();
    expect(f.attempts).toEqual([0, 0, 0]);
    expect(f.failed).toHaveLength(1);
    expect(queue.counters).toMatchObject({ accepted: 1, retried: 2, failed: 1, succeeded: 0 });
  });

  it('with waitForRetriesAtStop keeps each delay: the retry runs only when it is due, and the stop waits for it', async () => {
    vi.useFakeTimers({ now: 0 });
    const f = scripted(1);
    const queue = new AsyncInvokeQueue({ fn: f.fn, onFailure: f.onFailure, retryDelaysMs: [16_000, 16_000], waitForRetriesAtStop: true });
    queue.enqueue({ requestId: 'r', payload: '{"a":1}', invokedFunctionArn: f.fn.arn });
    await settle();
    let drained = false;
    void queue.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(15_999);
    expect(f.attempts).toEqual([0]);
    expect(drained).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(f.attempts).toEqual([0, 16_000]);
    expect(drained).toBe(true);
    expect(f.failed).toEqual([]);
    expect(queue.counters).toMatchObject({ accepted: 1, retried: 1, succeeded: 1, failed: 0 });
  });
});
