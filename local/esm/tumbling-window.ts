/**
 * Tumbling windows (pure). Page "Time windows" (services-kinesis-windows):
 * - "Lambda determines tumbling window boundaries based on the time when records were inserted into
 *   the stream" (approximate arrival timestamp); windows are distinct, back to back, of the configured
 *   length (aligned here to multiples of the length since the epoch, as the example 07:04:00-07:06:00
 *   for 120 s shows);
 * - each invocation receives the state returned by the previous one in the same window; the response
 *   must contain `state`;
 * - at the end of the window, `isFinalInvokeForWindow` is true; after it succeeds the state is dropped;
 * - "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the
 *   window early" (`isWindowTerminatedEarly`; the same window then continues with a fresh state);
 * - "When the shard ends, Lambda considers the window closed, and the child shards start their own
 *   window in a fresh state."
 */
import type { KinesisEventRecord, KinesisTimeWindowEvent } from './types';

export const WINDOW_STATE_LIMIT_BYTES = 1024 * 1024;

export interface TimeWindow {
  startMs: number;
  endMs: number;
}

export function windowOf(arrivalMs: number, tumblingWindowInSeconds: number): TimeWindow {
  const lengthMs = tumblingWindowInSeconds * 1000;
  const startMs = Math.floor(arrivalMs / lengthMs) * lengthMs;
  return { startMs, endMs: startMs + lengthMs };
}

/** `2020-12-09T07:04:00Z` (the event's format: no milliseconds). */
export function formatWindowTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function stateSizeBytes(state: unknown): number {
  return Buffer.byteLength(JSON.stringify(state ?? null) ?? 'null');
}

export function buildWindowEvent(args: {
  records: KinesisEventRecord[];
  window: TimeWindow;
  state: unknown;
  shardId: string;
  eventSourceARN: string;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}): KinesisTimeWindowEvent {
  return {
    Records: args.records,
    window: { start: formatWindowTime(args.window.startMs), end: formatWindowTime(args.window.endMs) },
    state: args.state,
    shardId: args.shardId,
    eventSourceARN: args.eventSourceARN,
    isFinalInvokeForWindow: args.isFinalInvokeForWindow,
    isWindowTerminatedEarly: args.isWindowTerminatedEarly,
  };
}

/** Bytes the window fields add to an event (for the 6 MB payload cap). */
export function windowEventOverheadBytes(state: unknown, shardId: string, eventSourceARN: string): number {
  const empty = buildWindowEvent({
    records: [],
    window: { startMs: 0, endMs: 0 },
    state: null,
    shardId,
    eventSourceARN,
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
  });
  return Buffer.byteLength(JSON.stringify(empty)) - '{"Records":[]}'.length + stateSizeBytes(state);
}

/**
 * A window may be closed (final invoke) once no record of it can still arrive: a later record was
 * read, a GetRecords that started after the window's end returned, or the shard ended.
 */
export function windowClosable(window: TimeWindow, reader: { latestArrivalMs: number; lastPollStartedAt: number; shardEnded: boolean }): boolean {
  return reader.shardEnded || reader.latestArrivalMs >= window.endMs || reader.lastPollStartedAt >= window.endMs;
}
