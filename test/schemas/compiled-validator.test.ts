/**
 * The registry validates with zod's compiled parsers (`z.compile`); this proves that changes nothing:
 * over fixtures of every contract, every `invalid()` fixture, the consumer runtime's bad-input corpus,
 * a systematic per-field mutation sweep (the bad inputs of events.test.ts are among them) and a few
 * thousand random mutations, the compiled registry and a `{ compiled: false }` registry agree exactly
 * (accept/reject, output including key order and -0, error kind, message and issues). Every accepted
 * input must also be accepted by the generated code alone, without zod's regular parser running on any
 * part of the contract, so the fast path is really taken and matches zod on the accept side too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryQuarantineSink, createKinesisHandler } from '../../consumers/runtime/index';
import { createFixtures } from '../../schemas/fixtures';
import {
  EVENT_DEFINITIONS,
  EventRegistry,
  orderPlacedV1,
  type EventDefinition,
  type OrderEvent,
  type ParseResult,
} from '../../schemas/index';
import { mulberry32 } from '../../schemas/seeded-random';
import { corpus } from '../consumer-runtime/bad-input-corpus';
import { LogCapture, b64, kinesisRecord, lambdaContext } from '../consumer-runtime/helpers';

const compiled = new EventRegistry<OrderEvent>(EVENT_DEFINITIONS);
const reference = new EventRegistry<OrderEvent>(EVENT_DEFINITIONS, { compiled: false });

// ---- instrumentation: counts runs of zod's regular parser on any part of any contract ------------

type Run = (payload: unknown, ctx: unknown) => unknown;
let regularRuns = 0;
const patched: { zod: { run: Run }; run: Run }[] = [];

/** Every zod schema reachable from `root` (shape fields, elements, wrapped types, ...). */
function reachableSchemas(root: z.ZodType): Set<{ run: Run }> {
  const seen = new Set<{ run: Run }>();
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) return value.forEach(visit);
    const zod = (value as { _zod?: { run: Run; def: Record<string, unknown> } })._zod;
    if (zod === undefined) {
      // A shape object: its values are the field schemas.
      if (Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach(visit);
      return;
    }
    if (seen.has(zod)) return;
    seen.add(zod);
    for (const [key, child] of Object.entries(zod.def)) if (key !== 'checks') visit(child);
  };
  visit(root);
  return seen;
}

beforeAll(() => {
  const all = new Set<{ run: Run }>();
  for (const def of EVENT_DEFINITIONS) for (const zod of reachableSchemas(def.schema as z.ZodType)) all.add(zod);
  for (const zod of all) {
    const run = zod.run;
    patched.push({ zod, run });
    zod.run = (payload, ctx) => {
      regularRuns += 1;
      return run(payload, ctx);
    };
  }
});

afterAll(() => {
  for (const { zod, run } of patched) zod.run = run;
});

// ---- the parity check ------------------------------------------------------------------------

interface Tally {
  accepted: number;
  rejected: number;
}

/** Asserts both registries answer `input` identically; returns whether it was accepted. */
function expectSameAnswer(input: unknown, label: string, fast: EventRegistry<OrderEvent> = compiled): boolean {
  const before = regularRuns;
  const got = fast.safeParse(input);
  const fastPathOnly = regularRuns === before;
  const want = reference.safeParse(input);
  expect(got.ok, `${label}: accept/reject`).toBe(want.ok);
  if (got.ok && want.ok) {
    expect(got.event, label).toStrictEqual(want.event);
    // Same key order, and -0 stays -0 (toStrictEqual uses Object.is for numbers).
    expect(JSON.stringify(got.event), label).toBe(JSON.stringify(want.event));
    expect(got.definition, label).toBe(want.definition);
    expect(fastPathOnly, `${label}: accepted without zod's regular parser`).toBe(true);
    return true;
  }
  const [g, w] = [got as Extract<ParseResult<OrderEvent>, { ok: false }>, want as Extract<ParseResult<OrderEvent>, { ok: false }>];
  expect(g.error.constructor, label).toBe(w.error.constructor);
  expect(g.error.kind, label).toBe(w.error.kind);
  expect(g.error.message, label).toBe(w.error.message);
  expect(g.error.issues, label).toEqual(w.error.issues);
  return false;
}

function check(inputs: Iterable<[label: string, input: unknown]>): Tally {
  const tally: Tally = { accepted: 0, rejected: 0 };
  for (const [label, input] of inputs) {
    if (expectSameAnswer(input, label)) tally.accepted += 1;
    else tally.rejected += 1;
  }
  return tally;
}

// ---- inputs ----------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function validEvents(seed: number): OrderEvent[] {
  const f = createFixtures({ seed });
  return [
    f.orderPlaced({ lines: 1 + (seed % 4) }),
    f.orderPaid(),
    f.orderShipped(),
    f.orderShipped({ warehouseId: `WH-${seed}` }),
    f.orderCancelled({ reason: 'other', note: `note ${seed}` }),
    f.orderCancelled({ reason: 'out_of_stock' }),
  ];
}

/** Every path into a JSON value (objects, arrays and leaves), as key lists. */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...pathsOf(item, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

const DELETE = Symbol('delete');

/** A deep copy of `value` with the node at `path` replaced (or deleted). */
function edit(value: Json, path: readonly (string | number)[], replacement: Json | typeof DELETE): Json {
  if (path.length === 0) return replacement === DELETE ? null : replacement;
  const copy = structuredClone(value) as Record<string | number, Json>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path.at(-1)!;
  if (replacement === DELETE) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

const ASTRAL = '\u{1F600}'; // one code point, two UTF-16 code units
const LENGTH_BOUNDS = [1, 2, 3, 5, 20, 32, 40, 64, 100, 200, 254, 500];

/** Replacement values for a node, chosen to probe every kind of constraint the contracts use. */
function replacementsFor(current: Json): Json[] {
  const common: Json[] = [null, true, false, 0, '', [], {}];
  if (typeof current === 'string') {
    const out: Json[] = [
      ...common,
      ` ${current}`,
      `${current} `,
      `${current}\n`,
      `\u00a0${current}`,
      current.toLowerCase(),
      current.toUpperCase(),
      `${current}${ASTRAL}`,
      `${current}\ud800`,
      `\udc00${current}`,
      current.slice(1),
      current.slice(0, -1),
      `${current}x`,
      Number(current) || 7,
    ];
    for (const n of LENGTH_BOUNDS) {
      for (const len of [n - 1, n, n + 1]) {
        if (len <= 0) continue;
        out.push('A'.repeat(len), ASTRAL.repeat(len), `A${ASTRAL.repeat(len - 1)}`, `${'A'.repeat(len - 1)}\ud83d`);
      }
    }
    return out;
  }
  if (typeof current === 'number') {
    return [
      ...common,
      -0,
      1,
      -1,
      current + 1,
      current - 1,
      current + 0.5,
      current * 10,
      1000,
      1001,
      10_000,
      10_001,
      100_000_000_000,
      100_000_000_001,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 53 + 2,
      -(2 ** 53),
      1e21,
      1e-7,
      Number.MIN_VALUE,
      String(current),
      [current],
    ];
  }
  if (Array.isArray(current)) {
    const first = current[0] ?? null;
    return [...common, [...current, first], current.slice(1), Array.from({ length: 100 }, () => first), Array.from({ length: 101 }, () => first), 'x'];
  }
  if (typeof current === 'object' && current !== null) {
    return [
      ...common,
      { ...current, extra: 1 },
      { ...current, constructor: 1 },
      JSON.parse(`{"__proto__":{"polluted":true}${Object.keys(current).length > 0 ? ',' : ''}${JSON.stringify(current).slice(1)}`) as Json,
      JSON.parse(`{"__proto__":null}`) as Json,
      [current],
      'x',
    ];
  }
  return common;
}

/** Systematic sweep: every path of one valid event of each shape, deleted and replaced by every probe. */
function* sweep(): Generator<[string, unknown]> {
  for (const event of validEvents(7)) {
    const value = JSON.parse(JSON.stringify(event)) as Json;
    for (const path of pathsOf(value)) {
      const where = `${event.type} ${path.join('.') || '(root)'}`;
      if (path.length > 0) yield [`${where} deleted`, edit(value, path, DELETE)];
      const current = path.reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, value);
      for (const [i, replacement] of replacementsFor(current).entries()) yield [`${where} probe ${i}`, edit(value, path, replacement)];
    }
    // Default and optional fields: absent, explicitly present, explicitly undefined (not JSON, but API input).
    const { hops: _hops, ...withoutHops } = value as Record<string, Json>;
    yield [`${event.type} without hops`, withoutHops];
    yield [`${event.type} hops undefined`, { ...withoutHops, hops: undefined }];
    yield [`${event.type} traceId`, { ...(value as object), traceId: 'trace-1' }];
    yield [`${event.type} traceId undefined`, { ...(value as object), traceId: undefined }];
  }
}

/** Random mutations: 1-3 edits of random paths of random valid events, sometimes with the order total repaired. */
function* randomMutations(count: number, seed: number): Generator<[string, unknown]> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let n = 0; n < count; n++) {
    let value = JSON.parse(JSON.stringify(pick(validEvents(1 + Math.floor(random() * 50))))) as Json;
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      const path = pick(pathsOf(value));
      if (path.length > 0 && random() < 0.15) {
        value = edit(value, path, DELETE);
        continue;
      }
      const current = path.reduce<Json>((node, key) => (node as Record<string | number, Json> | null)?.[key] ?? null, value);
      value = edit(value, path, pick(replacementsFor(current)));
    }
    const data = (value as { data?: { lines?: unknown; totalMinor?: unknown } } | null)?.data;
    if (random() < 0.5 && Array.isArray(data?.lines)) {
      // Repair the cross-field rule so the mutation, not the total, decides.
      data.totalMinor = data.lines.reduce(
        (sum: number, line: { quantity?: unknown; unitPriceMinor?: unknown }) =>
          sum + (typeof line?.quantity === 'number' && typeof line.unitPriceMinor === 'number' ? line.quantity * line.unitPriceMinor : 0),
        0,
      );
    }
    yield [`random #${n}`, value];
  }
}

// ---- tests -----------------------------------------------------------------------------------

describe('compiled contracts (z.compile)', () => {
  it('every registered contract compiles, once, and { compiled: false } keeps zod’s regular parser', () => {
    for (const def of EVENT_DEFINITIONS) {
      const validator = compiled.validator(def);
      expect(validator.compiled, `${def.type} v${def.version}: ${validator.reason}`).toBe(true);
      expect(validator.schema).not.toBe(def.schema);
      expect(compiled.validator(def)).toBe(validator);
      expect(reference.validator(def)).toEqual({ schema: def.schema, compiled: false, reason: 'disabled' });
    }
  });

  it('a contract zod cannot compile keeps its regular parser and still validates', () => {
    const asyncRule = z.string().refine(async (s) => s.length > 0);
    const def = { ...orderPlacedV1, type: 'test.async', schema: z.strictObject({ a: asyncRule }) } as unknown as EventDefinition;
    const validator = new EventRegistry([def]).validator(def);
    expect(validator.compiled).toBe(false);
    expect(validator.reason).toMatch(/async/);
    expect(validator.schema).toBe(def.schema);
  });
});

describe('compiled and regular validation agree', () => {
  it('on fixtures of 150 seeds of every event type and the mixed lifecycle stream (all accepted)', () => {
    const inputs: [string, unknown][] = [];
    for (let seed = 1; seed <= 150; seed++) {
      for (const event of validEvents(seed)) {
        inputs.push([`seed ${seed} ${event.type}`, event], [`seed ${seed} ${event.type} (JSON)`, JSON.parse(JSON.stringify(event))]);
      }
    }
    for (const event of createFixtures({ seed: 4 }).take(300)) inputs.push([`stream ${event.id}`, event]);
    const tally = check(inputs);
    expect(tally).toEqual({ accepted: inputs.length, rejected: 0 });
  });

  it('on 300 invalid() fixtures (all rejected, same typed errors)', () => {
    const f = createFixtures({ seed: 11 });
    const tally = check(Array.from({ length: 300 }, (_, i) => {
      const bad = f.invalid();
      return [`invalid #${i} ${bad.kind}`, bad.value] as [string, unknown];
    }));
    expect(tally).toEqual({ accepted: 0, rejected: 300 });
  });

  it('on every JSON payload of the consumer runtime’s bad-input corpus', () => {
    const inputs: [string, unknown][] = [];
    for (const bad of corpus()) {
      try {
        inputs.push([bad.name, JSON.parse(Buffer.from(bad.data, 'base64').toString('utf8'))]);
      } catch {
        // not JSON (base64, UTF-8, aggregate and syntax cases): never reaches the registry
      }
    }
    expect(inputs.length).toBeGreaterThanOrEqual(15);
    const tally = check(inputs);
    // Only the hops case is a valid event (the runtime's loop guard, not the contract, rejects it).
    expect(tally.accepted).toBe(1);
  });

  it('on a sweep deleting and replacing every field of every event shape with boundary probes', () => {
    const inputs = [...sweep()];
    expect(inputs.length).toBeGreaterThan(3000);
    const tally = check(inputs);
    // Both outcomes are well represented (astral strings at length bounds, -0, 2^53-1, ... are valid).
    expect(tally.accepted).toBeGreaterThan(300);
    expect(tally.rejected).toBeGreaterThan(2000);
  });

  it('on 4000 random mutations of valid events', () => {
    const tally = check(randomMutations(4000, 2026));
    expect(tally.accepted).toBeGreaterThan(200);
    expect(tally.rejected).toBeGreaterThan(1000);
  });

  it('on inputs JSON cannot carry (class instances, NaN, Infinity, getters, null prototypes)', () => {
    const valid = validEvents(3)[1]!;
    const nullProto = Object.assign(Object.create(null) as object, valid);
    const inherited = Object.assign(Object.create({ inherited: 1 }) as object, valid);
    const withGetter = Object.defineProperty({ ...valid }, 'source', { get: () => 'getter', enumerable: true });
    const hidden = Object.defineProperty({ ...valid }, 'extra', { value: 1, enumerable: false });
    const tally = check([
      ['null prototype', nullProto],
      ['inherited enumerable key', inherited],
      ['getter', withGetter],
      ['non-enumerable extra key', hidden],
      ['NaN hops', { ...valid, hops: Number.NaN }],
      ['Infinity amount', { ...valid, data: { ...valid.data, amountMinor: Infinity } }],
      ['Date as occurredAt', { ...valid, occurredAt: new Date(0) }],
      ['String object id', { ...valid, id: new String(valid.id) }],
      ['Map as data', { ...valid, data: new Map() }],
    ]);
    expect(tally.accepted + tally.rejected).toBe(9);
  });

  it('keeps an error report identical, including which issues are reported at once', () => {
    const placed = createFixtures({ seed: 5 }).orderPlaced({ lines: 3 }) as unknown as Json;
    const negative = edit(placed, ['data', 'lines', 1, 'unitPriceMinor'], -1);
    const result = compiled.safeParse(negative);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.issues).toEqual([{ path: 'data.lines.1.unitPriceMinor', message: 'must not be negative' }]);
    expectSameAnswer(negative, 'negative price');
  });
});

describe('the parity check itself', () => {
  /** A registry whose order.placed fast path is `parser` (a deliberately wrong one). */
  class Rigged extends EventRegistry<OrderEvent> {
    constructor(private readonly parser: (input: unknown) => unknown) {
      super(EVENT_DEFINITIONS);
    }
    override validator(def: EventDefinition) {
      if (def !== orderPlacedV1) return super.validator(def);
      return { schema: z.withParser(def.schema, this.parser as (input: unknown) => z.output<typeof def.schema>), compiled: true };
    }
  }

  /** Whether the parity check fails on some input (stops at the first failure). */
  function findsDisagreement(fast: EventRegistry<OrderEvent>, inputs: Iterable<[string, unknown]>): boolean {
    for (const [label, input] of inputs) {
      try {
        expectSameAnswer(input, label, fast);
      } catch {
        return true;
      }
    }
    return false;
  }

  it('catches a fast path that forgot a cross-field rule (total = sum of the lines)', () => {
    const data = orderPlacedV1.data as unknown as z.ZodObject;
    const withoutRule = orderPlacedV1.schema.clone();
    const shape = { ...(withoutRule as unknown as z.ZodObject).shape, data: data.clone({ ...data._zod.def, checks: [] }) };
    const lenient = z.compile(z.strictObject(shape));
    const rigged = new Rigged((input) => {
      const result = lenient.safeParse(input);
      return result.success ? result.data : z.INVALID;
    });
    expect(findsDisagreement(rigged, randomMutations(1000, 7))).toBe(true);
    expect(findsDisagreement(rigged, sweep())).toBe(true);
    // ...and finds nothing on the correct fast path over the same inputs.
    expect(findsDisagreement(compiled, randomMutations(1000, 7))).toBe(false);
  });

  it('catches a fast path that counts string length in UTF-16 code units (zod counts code points)', () => {
    const rigged = new Rigged((input) => {
      const name = (input as { data?: { shippingAddress?: { name?: unknown } } }).data?.shippingAddress?.name;
      if (typeof name === 'string' && name.length > 200) return z.INVALID;
      const result = compiled.validator(orderPlacedV1).schema.safeParse(input);
      return result.success ? result.data : z.INVALID;
    });
    // Wrong only in speed (it falls back to zod): the instrumentation flags it.
    expect(findsDisagreement(rigged, sweep())).toBe(true);
  });

  it('catches a fast path that returns its input unchanged (no default for hops)', () => {
    const rigged = new Rigged((input) => {
      const result = compiled.validator(orderPlacedV1).schema.safeParse(input);
      return result.success ? input : z.INVALID;
    });
    expect(findsDisagreement(rigged, sweep())).toBe(true);
  });
});

describe('the consumer runtime validates through the compiled contracts', () => {
  it('handles a batch of valid events without running zod’s regular parser, and quarantines a bad one as before', async () => {
    const events = createFixtures({ seed: 21 }).take(40);
    const bad = { ...createFixtures({ seed: 22 }).orderPaid(), hops: -1 };
    const quarantine = new InMemoryQuarantineSink();
    const handled: string[] = [];
    const record = (e: OrderEvent) => void handled.push(e.id);
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'compiled',
      registry: compiled,
      quarantine,
      logDestination: new LogCapture(),
      metrics: false,
      handlers: { 'order.placed': record, 'order.paid': record, 'order.shipped': record, 'order.cancelled': record },
    });
    const before = regularRuns;
    const ok = await handler({ Records: events.map((e, i) => kinesisRecord(i, b64(e), `k${i}`)) }, lambdaContext());
    expect(ok.batchItemFailures).toEqual([]);
    expect(handled).toEqual(events.map((e) => e.id));
    expect(regularRuns).toBe(before);

    const res = await handler({ Records: [kinesisRecord(0, b64(bad), 'bad')] }, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(regularRuns).toBeGreaterThan(before);
    expect(quarantine.records.map((r) => r.error.message)).toEqual(['invalid order.paid v1: hops: must not be negative']);
  });
});
