/**
 * Rule 9, tumbling windows ("Implementing stateful Kinesis Data Streams processing in Lambda"; response
 * shape TimeWindowEventResponse `{ state, batchItemFailures }`):
 * Lambda passes the window's state into every invocation of the window and requires `state` in the
 * response (without it the invocation counts as failed); the last invocation of a window has
 * isFinalInvokeForWindow=true and carries the final state. State is limited to 1 MB per shard
 * (beyond that Lambda ends the window early: isWindowTerminatedEarly=true).
 *
 * Records are reduced strictly in batch order, one at a time. On a transient failure nothing after
 * it is reduced: the response carries the state up to the failed record and its sequence number, so
 * the retry continues the fold exactly where it stopped.
 */
import type { Context, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import type { Logger } from '../../telemetry/logger';
import { shardIdOf } from './decode';
import { RuntimeInvariantError } from './errors';
import { DUPLICATE_SKIPPED, HandlerRunner, type EventStep } from './handler-runner';
import type { ConsumerRuntimeOptions } from './options';
import { ConsumerRuntime } from './runtime';
import type { AnyEvent, RecordMeta } from './types';

/** Window state: a JSON object (Lambda stores it between invocations of a window). */
export type WindowState = Record<string, unknown>;

/** The window an invocation belongs to. */
export interface WindowInfo {
  /** ISO-8601 window start and end (from the event's `window`). */
  readonly start: string;
  readonly end: string;
  readonly shardId: string;
  readonly streamArn: string | undefined;
  /** The window ended early because the state exceeded 1 MB. */
  readonly terminatedEarly: boolean;
}

/** Options of `createKinesisWindowHandler`. */
export interface KinesisWindowHandlerOptions<E extends AnyEvent, S extends WindowState> extends ConsumerRuntimeOptions<E> {
  /**
   * State at the start of a window: Lambda sends an empty or no state then ("a new window starts with
   * a fresh state"), on the window's first invocation and on every retry of it. It may read elsewhere
   * (async), e.g. what the shard's previous window left: once per window and shard, not per record.
   */
  initialState: (window: WindowInfo, log: Logger) => S | Promise<S>;
  /**
   * The event was already folded into this window (a redelivery, or a copy written twice): it is not
   * reduced, and counts as a skipped duplicate (EMF DuplicatesSkipped), not as processed. May record
   * the skip in the state (mutating it); must not throw. Runs per record: keep it O(1).
   */
  skipDuplicate?: (state: S, event: E) => boolean;
  /**
   * Fold one event into the state; return the new state (sync or async). Throw PermanentError to
   * quarantine the event. Do not mutate `state` before throwing (return a new object, or mutate last).
   */
  reduce: (state: S, event: E, meta: RecordMeta) => S | Promise<S>;
  /**
   * Called on the window's final invocation with the final state (e.g. publish it) and the invocation's
   * Lambda context (e.g. its remaining time). A throw fails the invocation, and Lambda retries it.
   */
  onWindowEnd?: (state: S, window: WindowInfo, log: Logger, context: Context) => void | Promise<void>;
}

/** The Lambda handler returned by `createKinesisWindowHandler`. */
export type KinesisWindowBatchHandler = (event: KinesisStreamTumblingWindowEvent, context: Context) => Promise<KinesisStreamStateResponse>;

/** 1 MB per shard: Lambda's tumbling-window state limit. */
export const WINDOW_STATE_LIMIT_BYTES = 1_000_000;

function isEmptyState(state: unknown): boolean {
  if (state === undefined || state === null) return true;
  if (typeof state !== 'object') return false;
  for (const key in state) if (Object.prototype.hasOwnProperty.call(state, key)) return false;
  return true;
}

function isPlainObject(value: unknown): value is WindowState {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Build a Lambda handler for a Kinesis mapping with TumblingWindowInSeconds (and
 * ReportBatchItemFailures). Returns `{ state, batchItemFailures }` on every invocation.
 */
export function createKinesisWindowHandler<E extends AnyEvent, S extends WindowState>(
  options: KinesisWindowHandlerOptions<E, S>,
): KinesisWindowBatchHandler {
  // No idempotency store by default: when an invocation fails, Lambda retries the window with the
  // previous state, and an in-memory store would then skip (lose) the retried records. Dedupe by ids
  // kept in the state, or pass a store explicitly.
  const runtime = new ConsumerRuntime({ ...options, idempotency: options.idempotency ?? false } as unknown as ConsumerRuntimeOptions<AnyEvent>);
  const { reduce, initialState, skipDuplicate, onWindowEnd } = options;
  // Rule 9: whatever is reported for redelivery is not in the returned state. Records are reduced one at a
  // time and the fold stops at the first one to redeliver; a permanent failure is written to the quarantine
  // before the fold goes on, so a failed write stops it there too (not after later records were folded in).
  const mode = { concurrency: 1, stopAllOnFailure: true, quarantineAtOnce: true };

  return async (event, context) => {
    try {
      await runtime.ready();
      if (event === null || typeof event !== 'object' || !isPlainObject(event.window)) {
        throw new RuntimeInvariantError('event has no tumbling window: set TumblingWindowInSeconds on the event source mapping, or use createKinesisHandler');
      }
      const incoming = event.state;
      if (!isEmptyState(incoming) && !isPlainObject(incoming)) throw new RuntimeInvariantError('window state from Lambda is not an object');
      const shardId = (event as { shardId?: string }).shardId ?? shardIdOf(event.Records[0]?.eventID);
      const streamArn = (event as { eventSourceARN?: string }).eventSourceARN ?? event.Records[0]?.eventSourceARN;
      const window: WindowInfo = { start: event.window.start, end: event.window.end, shardId, streamArn, terminatedEarly: event.isWindowTerminatedEarly === true };
      let state: S = isEmptyState(incoming) ? await initialState(window, runtime.log) : (incoming as S);
      const step: EventStep = (ev, item) => {
        if (skipDuplicate !== undefined && skipDuplicate(state, ev as E)) return DUPLICATE_SKIPPED;
        const next = reduce(state, ev as E, item);
        if (typeof (next as PromiseLike<S>)?.then === 'function') {
          return Promise.resolve(next).then((value) => {
            state = value;
          });
        }
        state = next as S;
        return undefined;
      };
      const runner = new HandlerRunner(() => step, runtime.settings.idempotency, runtime.log);
      const result = await runtime.invoke(event, context, runner, mode);
      if (!isPlainObject(state)) throw new TypeError('the window reducer must return an object (the window state)');
      const bytes = Buffer.byteLength(JSON.stringify(state), 'utf8');
      if (bytes > WINDOW_STATE_LIMIT_BYTES) {
        result.log.warn({ stateBytes: bytes }, 'window state exceeds 1 MB: Lambda will terminate the window early');
      }
      if (event.isFinalInvokeForWindow && result.batchItemFailures.length === 0 && onWindowEnd !== undefined) {
        await onWindowEnd(state, window, result.log, context);
      }
      return { state, batchItemFailures: result.batchItemFailures };
    } catch (error) {
      runtime.builtLog?.error({ err: error, requestId: context?.awsRequestId }, 'window invocation failed');
      throw error;
    }
  };
}
