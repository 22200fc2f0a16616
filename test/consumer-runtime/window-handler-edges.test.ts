/**
 * createKinesisWindowHandler (rule 9, tumbling windows) at its edges: what Lambda may send as `state`
 * (nothing, null, an empty object, something that is not an object), events without a window or
 * without the window fields, what the reducer may return, the 1 MB state warning at its exact bound,
 * skipped duplicates, and when onWindowEnd runs. Also the failure log line both handler factories
 * write before rethrowing a runtime error (rule 12).
 */
import type { Context, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  InMemoryQuarantineSink,
  WINDOW_STATE_LIMIT_BYTES,
  createKinesisHandler,
  createKinesisWindowHandler,
  type WindowInfo,
  type WindowState,
} from '../../consumers/runtime/index';
import { RuntimeInvariantError } from '../../consumers/runtime/errors';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { EmfCapture, LogCapture, SHARD_ID, STREAM_ARN, b64, kinesisRecord, lambdaContext, tick } from './helpers';

const WINDOW = { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:01:00Z' };

/** A tumbling-window event as Lambda sends it; `fields` replaces or adds any top-level field. */
function windowEvent(payloads: readonly unknown[], fields: Record<string, unknown> = {}): KinesisStreamTumblingWindowEvent {
  return {
    Records: payloads.map((p, i) => kinesisRecord(i, b64(p))),
    window: WINDOW,
    state: {},
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
    ...({ shardId: SHARD_ID, eventSourceARN: STREAM_ARN } as object),
    ...fields,
  } as KinesisStreamTumblingWindowEvent;
}

interface Count extends WindowState {
  n: number;
}

/** A counting window handler; every call of initialState, reduce and onWindowEnd is recorded. */
function setup(overrides: Partial<Parameters<typeof createKinesisWindowHandler<OrderEvent, WindowState>>[0]> = {}) {
  const logs = new LogCapture();
  const emf = new EmfCapture();
  const initial: WindowInfo[] = [];
  const reduced: string[] = [];
  const ends: { state: WindowState; window: WindowInfo }[] = [];
  const handler = createKinesisWindowHandler<OrderEvent, WindowState>({
    consumerName: 'window-edges',
    registry,
    quarantine: new InMemoryQuarantineSink(),
    logDestination: logs,
    metrics: { writer: emf.writer },
    initialState: (window) => {
      initial.push(window);
      return { n: 0 };
    },
    reduce: (state, event) => {
      reduced.push(event.id);
      return { n: (state as Count).n + 1 };
    },
    onWindowEnd: (state, window) => {
      ends.push({ state, window });
    },
    ...overrides,
  });
  return { handler, logs, emf, initial, reduced, ends };
}

const fixtures = () => createFixtures({ seed: 7 });

describe('the state Lambda sends', () => {
  it.each([
    ['absent', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an object with only inherited keys', Object.create({ inherited: 1 }) as object],
  ])('%s: a new window, started from initialState', async (_name, state) => {
    const { handler, initial } = setup();
    const res = await handler(windowEvent([fixtures().orderPaid()], { state }), lambdaContext());
    expect(initial).toHaveLength(1);
    expect(res).toEqual({ state: { n: 1 }, batchItemFailures: [] });
  });

  it('a state with keys: the fold continues from it, initialState is not called', async () => {
    const { handler, initial } = setup();
    const res = await handler(windowEvent([fixtures().orderPaid()], { state: { n: 41 } }), lambdaContext());
    expect(initial).toEqual([]);
    expect(res.state).toEqual({ n: 42 });
  });

  it.each([
    ['a number', 5],
    ['an empty string', ''],
    ['a string', 'abc'],
    ['a non-empty array', [1]],
    ['true', true],
  ])('%s: not an object, so the invocation fails with RuntimeInvariantError', async (_name, state) => {
    const { handler, initial, reduced } = setup();
    const failure = handler(windowEvent([fixtures().orderPaid()], { state }), lambdaContext());
    await expect(failure).rejects.toBeInstanceOf(RuntimeInvariantError);
    await expect(failure).rejects.toThrow('window state from Lambda is not an object');
    expect(initial).toEqual([]);
    expect(reduced).toEqual([]);
  });
});

describe('events that are not tumbling-window events', () => {
  it.each([
    ['null', null],
    ['a string', 'event'],
    ['no window', { Records: [] }],
    ['window: null', { Records: [], window: null }],
    ['window: an array', { Records: [], window: ['2026-01-01T00:00:00Z'] }],
    ['window: a string', { Records: [], window: '2026-01-01T00:00:00Z' }],
  ])('%s: RuntimeInvariantError naming the missing TumblingWindowInSeconds', async (_name, event) => {
    const { handler } = setup();
    const failure = handler(event as unknown as KinesisStreamTumblingWindowEvent, lambdaContext());
    await expect(failure).rejects.toBeInstanceOf(RuntimeInvariantError);
    await expect(failure).rejects.toThrow(/event has no tumbling window: set TumblingWindowInSeconds on the event source mapping/);
  });
});

describe('the window an invocation belongs to', () => {
  it('takes shard and stream from the event, and terminatedEarly from isWindowTerminatedEarly', async () => {
    const { handler, initial, ends } = setup();
    await handler(windowEvent([], { isWindowTerminatedEarly: true, isFinalInvokeForWindow: true, state: undefined }), lambdaContext());
    const expected: WindowInfo = { ...WINDOW, shardId: SHARD_ID, streamArn: STREAM_ARN, terminatedEarly: true };
    expect(initial).toEqual([expected]);
    expect(ends.map((e) => e.window)).toEqual([expected]);
  });

  it.each([
    ['false', false],
    ['absent', undefined],
    ['truthy but not true', 'true'],
  ])('isWindowTerminatedEarly %s: terminatedEarly is false', async (_name, flag) => {
    const { handler, initial } = setup();
    await handler(windowEvent([], { isWindowTerminatedEarly: flag, state: undefined }), lambdaContext());
    expect(initial.map((w) => w.terminatedEarly)).toEqual([false]);
  });

  it('without shardId and eventSourceARN on the event: from the first record (eventID "<shardId>:<sequence>")', async () => {
    const { handler, initial } = setup();
    const event = windowEvent([fixtures().orderPaid()], { shardId: undefined, eventSourceARN: undefined, state: undefined });
    await handler(event, lambdaContext());
    expect(initial.map((w) => [w.shardId, w.streamArn])).toEqual([[SHARD_ID, STREAM_ARN]]);
  });

  it('without them and without records: shard "unknown", no stream ARN, and the invocation still answers', async () => {
    const { handler, initial } = setup();
    const res = await handler(windowEvent([], { shardId: undefined, eventSourceARN: undefined, state: undefined }), lambdaContext());
    expect(initial.map((w) => [w.shardId, w.streamArn])).toEqual([['unknown', undefined]]);
    expect(res).toEqual({ state: { n: 0 }, batchItemFailures: [] });
  });
});

describe('what the reducer returns', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', []],
    ['a number', 3],
  ])('%s: the invocation fails with a TypeError naming the rule (Lambda needs an object state)', async (_name, value) => {
    const { handler, ends } = setup({ reduce: () => value as unknown as WindowState });
    const failure = handler(windowEvent([fixtures().orderPaid()], { isFinalInvokeForWindow: true }), lambdaContext());
    await expect(failure).rejects.toBeInstanceOf(TypeError);
    await expect(failure).rejects.toThrow('the window reducer must return an object (the window state)');
    expect(ends).toEqual([]);
  });

  it('an async reducer resolving to null fails the same way', async () => {
    const { handler } = setup({ reduce: async () => null as unknown as WindowState });
    await expect(handler(windowEvent([fixtures().orderPaid()]), lambdaContext())).rejects.toThrow('the window reducer must return an object');
  });
});

describe('state size: Lambda ends a window early beyond 1 MB (WINDOW_STATE_LIMIT_BYTES)', () => {
  const WARNING = 'window state exceeds 1 MB: Lambda will terminate the window early';
  /** A reducer whose state serialises to exactly `bytes` UTF-8 bytes (`{"pad":"…"}` is 10 bytes + padding). */
  const stateOf = (bytes: number, unit = 'x') => {
    const padding = (bytes - 10) / Buffer.byteLength(unit);
    const state = { pad: unit.repeat(padding) };
    expect(Buffer.byteLength(JSON.stringify(state))).toBe(bytes);
    return state;
  };

  it.each([
    ['exactly at the limit: no warning', WINDOW_STATE_LIMIT_BYTES, 'x', false],
    ['one byte over: a warning with the size', WINDOW_STATE_LIMIT_BYTES + 1, 'x', true],
    ['well under: no warning', 100, 'x', false],
    ['over in bytes though not in characters (UTF-8 is what counts)', WINDOW_STATE_LIMIT_BYTES + 2, 'é', true],
  ])('%s', async (_name, bytes, unit, warned) => {
    const state = stateOf(bytes, unit);
    const { handler, logs } = setup({ reduce: () => state });
    const res = await handler(windowEvent([fixtures().orderPaid()]), lambdaContext());
    await tick();
    expect(res.state).toBe(state);
    expect(logs.find(WARNING).map((l) => l['stateBytes'])).toEqual(warned ? [bytes] : []);
  });

  it('the warning carries the invocation context (request id, shard)', async () => {
    const state = stateOf(WINDOW_STATE_LIMIT_BYTES + 1);
    const { handler, logs } = setup({ reduce: () => state });
    await handler(windowEvent([fixtures().orderPaid()]), lambdaContext({ awsRequestId: 'req-big' }));
    await tick();
    const [line] = logs.find(WARNING);
    expect(line?.['requestId']).toBe('req-big');
    expect(line?.['shardId']).toBe(SHARD_ID);
    expect(line?.['level']).toBe('warn');
  });
});

describe('skipDuplicate', () => {
  it('an event it reports as folded already is not reduced and counts as a skipped duplicate', async () => {
    const f = fixtures();
    const events = [f.orderPaid(), f.orderPaid(), f.orderPaid()];
    const skipped = new Set([events[1]!.id]);
    const { handler, reduced, emf } = setup({ skipDuplicate: (_state, event) => skipped.has(event.id) });
    const res = await handler(windowEvent(events), lambdaContext());
    expect(reduced).toEqual([events[0]!.id, events[2]!.id]);
    expect(res).toEqual({ state: { n: 2 }, batchItemFailures: [] });
    const doc = emf.docs.at(-1)!;
    expect(doc['DuplicatesSkipped']).toBe(1);
    expect(doc['RecordsProcessed']).toBe(2);
  });

  it('sees the state as folded so far (it may record the skip in it)', async () => {
    const f = fixtures();
    const events = [f.orderPaid(), f.orderPaid()];
    const seenAt: number[] = [];
    const { handler } = setup({
      skipDuplicate: (state) => {
        seenAt.push((state as Count).n);
        return false;
      },
    });
    await handler(windowEvent(events, { state: { n: 10 } }), lambdaContext());
    expect(seenAt).toEqual([10, 11]);
  });
});

describe('onWindowEnd', () => {
  it('runs on the final invocation with the final state when nothing is left to redeliver', async () => {
    const f = fixtures();
    const { handler, ends } = setup();
    await handler(windowEvent([f.orderPaid(), f.orderPaid()], { isFinalInvokeForWindow: false }), lambdaContext());
    expect(ends).toEqual([]);
    await handler(windowEvent([f.orderPaid()], { isFinalInvokeForWindow: true, state: { n: 2 } }), lambdaContext());
    expect(ends.map((e) => e.state)).toEqual([{ n: 3 }]);
  });

  it('does not run on a final invocation that reports a record for redelivery (the state is not final yet)', async () => {
    const f = fixtures();
    const events = [f.orderPaid(), f.orderPaid()];
    const { handler, ends } = setup({
      reduce: (state, event) => {
        if (event.id === events[1]!.id) throw new Error('downstream unavailable');
        return { n: (state as Count).n + 1 };
      },
    });
    const res = await handler(windowEvent(events, { isFinalInvokeForWindow: true }), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: kinesisRecord(1, '').kinesis.sequenceNumber }]);
    expect(res.state).toEqual({ n: 1 });
    expect(ends).toEqual([]);
  });
});

describe('rule 12: a runtime failure is logged with the request id, then rethrown as is', () => {
  const notAnEvent = { Records: 'not a list' };
  const factories: [string, (logs: LogCapture) => (event: never, context: Context) => Promise<unknown>, string][] = [
    [
      'createKinesisHandler',
      (logs) => createKinesisHandler<OrderEvent>({ consumerName: 'c', registry, handlers: {}, quarantine: new InMemoryQuarantineSink(), logDestination: logs, metrics: false }),
      'consumer runtime error: failing the invocation',
    ],
    ['createKinesisWindowHandler', (logs) => setupWith(logs), 'window invocation failed'],
  ];
  function setupWith(logs: LogCapture) {
    return createKinesisWindowHandler<OrderEvent, WindowState>({
      consumerName: 'c',
      registry,
      quarantine: new InMemoryQuarantineSink(),
      logDestination: logs,
      metrics: false,
      initialState: () => ({}),
      reduce: (s) => s,
    });
  }

  it.each(factories)('%s', async (_name, build, message) => {
    const logs = new LogCapture();
    const handler = build(logs);
    const event = { ...notAnEvent, window: WINDOW } as never;
    const failure = handler(event, lambdaContext({ awsRequestId: 'req-broken' }));
    await expect(failure).rejects.toBeInstanceOf(RuntimeInvariantError);
    await tick();
    const lines = logs.find(message);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.['requestId']).toBe('req-broken');
    expect(lines[0]?.['level']).toBe('error');
    expect((lines[0]?.['err'] as { type?: string; message?: string } | undefined)?.type).toBe('RuntimeInvariantError');
    expect(logs.lines.filter((l) => l['msg'] === message || l['level'] === 'error')).toHaveLength(1);
  });

  it.each(factories)('%s without a Lambda context: the same error is rethrown (not a TypeError from the log line)', async (_name, build, message) => {
    const logs = new LogCapture();
    const handler = build(logs);
    const failure = handler({ ...notAnEvent, window: WINDOW } as never, undefined as unknown as Context);
    await expect(failure).rejects.toBeInstanceOf(RuntimeInvariantError);
    await tick();
    expect(logs.find(message)).toHaveLength(1);
    expect(logs.find(message)[0]).not.toHaveProperty('requestId');
  });
});
