/**
 * Asynchronous invocation (Invoke with InvocationType Event): Lambda queues the event, answers 202,
 * runs the function later, and on a function error retries it up to two more times, waiting about
 * one minute before the first retry and two minutes before the second (Lambda developer guide,
 * "Asynchronous invocation" / "Configuring error handling for asynchronous invocation":
 * MaximumRetryAttempts default 2). An event that still fails becomes an invocation record with
 * condition RetriesExhausted, written to the function's on-failure file.
 *
 * Local deviation, documented: when the runner stops, events waiting for a retry delay are retried
 * at once (attempts are still counted), so shutdown never waits minutes and never drops an event.
 * `waitForRetriesAtStop` keeps the delays instead (the chaos harness: its delays are short, and a
 * retry must not come before a crashed attempt's idempotency lease has ended, as on AWS, where the
 * first retry comes a minute later).
 */
import type { InvocationResult, LocalFunction } from './local-function';
import type { NdjsonFile } from '../ndjson-file';

export interface AsyncInvokeQueueOptions {
  fn: LocalFunction;
  /** Where events that exhausted their retries go (AWS-shaped asynchronous invocation records). */
  onFailure: NdjsonFile;
  /** Waits before retry 1, 2, ... (default [60 s, 120 s]); its length is MaximumRetryAttempts. */
  retryDelaysMs?: readonly number[];
  /** At stop, wait out the retry delays instead of retrying at once (default false). */
  waitForRetriesAtStop?: boolean;
  /** At most this many events of this function run at once (default: reserved concurrency, else 2). */
  concurrency?: number;
  onResult?(result: InvocationResult, attempt: number): void;
}

interface QueuedEvent {
  requestId: string;
  payload: string;
  invokedFunctionArn: string;
  attempts: number;
  notBefore: number;
  timer?: NodeJS.Timeout;
}

export const ASYNC_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

export class AsyncInvokeQueue {
  private readonly ready: QueuedEvent[] = [];
  private readonly delayed = new Set<QueuedEvent>();
  private running = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  readonly counters = { accepted: 0, succeeded: 0, retried: 0, failed: 0 };

  constructor(private readonly options: AsyncInvokeQueueOptions) {}

  private get concurrency(): number {
    const reserved = this.options.fn.maxConcurrency;
    return this.options.concurrency ?? (Number.isFinite(reserved) ? reserved : 2);
  }

  private get retryDelays(): readonly number[] {
    return this.options.retryDelaysMs ?? ASYNC_RETRY_DELAYS_MS;
  }

  enqueue(event: { requestId: string; payload: string; invokedFunctionArn: string }): void {
    this.counters.accepted += 1;
    this.ready.push({ ...event, attempts: 0, notBefore: 0 });
    this.pump();
  }

  /** Events accepted and not yet finished (queued, waiting for a retry, or running). */
  get pending(): number {
    return this.ready.length + this.delayed.size + this.running;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.ready.length > 0) {
      const event = this.ready.shift()!;
      this.running += 1;
      void this.run(event).finally(() => {
        this.running -= 1;
        this.pump();
        if (this.pending === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
      });
    }
  }

  private async run(event: QueuedEvent): Promise<void> {
    event.attempts += 1;
    let result: InvocationResult;
    try {
      result = await this.options.fn.invoke({ requestId: event.requestId, payload: event.payload, invokedFunctionArn: event.invokedFunctionArn });
    } catch (error) {
      // The function was shut down under us: record the event rather than lose it.
      await this.writeFailure(event, { ok: false, errorType: 'Crashed', error: { errorType: 'Runtime.Shutdown', errorMessage: (error as Error).message } });
      return;
    }
    this.options.onResult?.(result, event.attempts);
    if (result.ok) {
      this.counters.succeeded += 1;
      return;
    }
    const delay = this.retryDelays[event.attempts - 1];
    if (delay === undefined) {
      await this.writeFailure(event, result);
      return;
    }
    this.counters.retried += 1;
    if (this.draining) {
      this.ready.push(event);
      return;
    }
    this.delayed.add(event);
    event.timer = setTimeout(() => {
      this.delayed.delete(event);
      this.ready.push(event);
      this.pump();
    }, delay);
    // A stop that waits for retries keeps the process alive for them; otherwise a delay never does.
    if (!this.options.waitForRetriesAtStop) event.timer.unref();
  }

  private async writeFailure(
    event: QueuedEvent,
    result: { ok: false; errorType: string; error: { errorType: string; errorMessage: string; trace?: string[] } },
  ): Promise<void> {
    this.counters.failed += 1;
    let requestPayload: unknown;
    try {
      requestPayload = JSON.parse(event.payload);
    } catch {
      requestPayload = event.payload;
    }
    // Invocation record shape (Lambda developer guide, "Capturing records of Lambda asynchronous invocations").
    await this.options.onFailure.append({
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId: event.requestId,
        functionArn: `${this.options.fn.arn}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: event.attempts,
      },
      requestPayload,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: result.error,
    });
  }

  /** Run everything still queued (retry delays cut short unless `waitForRetriesAtStop`) and wait until nothing is pending. */
  async drain(): Promise<void> {
    this.draining = !this.options.waitForRetriesAtStop;
    if (this.draining) {
      for (const event of this.delayed) {
        clearTimeout(event.timer);
        this.ready.push(event);
      }
      this.delayed.clear();
    }
    if (this.concurrency === 0) {
      // Reserved concurrency 0 throttles every invocation: nothing can run, so record them all.
      for (const event of this.ready.splice(0)) {
        await this.writeFailure(event, { ok: false, errorType: 'Throttled', error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded: reserved concurrency is 0' } });
      }
    }
    this.pump();
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
