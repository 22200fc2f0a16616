import { describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type ContractErrorKind, type OrderEvent } from '../../schemas/index';

describe('fixtures are deterministic', () => {
  it('the same seed yields identical events (serialised byte for byte)', () => {
    const a = createFixtures({ seed: 1234 }).take(500);
    const b = createFixtures({ seed: 1234 }).take(500);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('generators do not share state: interleaving two does not change either', () => {
    const alone = createFixtures({ seed: 5 }).take(100);
    const x = createFixtures({ seed: 5 });
    const y = createFixtures({ seed: 6 });
    const interleaved: OrderEvent[] = [];
    for (let i = 0; i < 100; i += 1) {
      interleaved.push(x.next());
      y.next();
    }
    expect(interleaved).toEqual(alone);
  });

  it('different seeds yield different events (ids never collide across 20 seeds)', () => {
    const runs = Array.from({ length: 20 }, (_, seed) => createFixtures({ seed }).take(50));
    const serialised = new Set(runs.map((events) => JSON.stringify(events)));
    expect(serialised.size).toBe(20);
    const ids = new Set(runs.flat().map((e) => e.id));
    expect(ids.size).toBe(20 * 50);
  });

  it('honours startTime and source; occurredAt is strictly increasing', () => {
    const startTime = Date.UTC(2030, 5, 1);
    const events = createFixtures({ seed: 9, startTime, source: 'checkout' }).take(200);
    let previous = startTime;
    for (const event of events) {
      const at = Date.parse(event.occurredAt);
      expect(at).toBeGreaterThan(previous);
      expect(at - previous).toBeLessThanOrEqual(500);
      previous = at;
      expect(event.source).toBe('checkout');
    }
  });
});

describe('fixtures are always valid', () => {
  it('100 seeds x 100 lifecycle events validate', () => {
    for (let seed = 0; seed < 100; seed += 1) {
      for (const event of createFixtures({ seed }).take(100)) {
        const result = registry.safeParse(event);
        if (!result.ok) throw new Error(`seed ${seed}: ${result.error.message}`);
        expect(result.event).toEqual(event);
      }
    }
  });

  it('every order follows its lifecycle: placed, then paid, then shipped or cancelled', () => {
    const history = new Map<string, string[]>();
    for (const event of createFixtures({ seed: 77 }).take(2000)) {
      const list = history.get(event.data.orderId) ?? [];
      list.push(event.type);
      history.set(event.data.orderId, list);
    }
    const allowed = ['order.placed', 'order.placed,order.paid', 'order.placed,order.cancelled', 'order.placed,order.paid,order.shipped'];
    for (const [orderId, types] of history) expect(allowed, orderId).toContain(types.join(','));
    const complete = [...history.values()].filter((t) => t.length > 1 && t.at(-1) !== 'order.paid');
    expect(complete.length).toBeGreaterThan(100);
  });

  it('an order.paid of the lifecycle pays exactly its order total in its currency', () => {
    const placed = new Map<string, { total: number; currency: string }>();
    for (const event of createFixtures({ seed: 31 }).take(1000)) {
      if (event.type === 'order.placed') placed.set(event.data.orderId, { total: event.data.totalMinor, currency: event.data.currency });
      if (event.type === 'order.paid') {
        expect(placed.get(event.data.orderId)).toEqual({ total: event.data.amountMinor, currency: event.data.currency });
      }
    }
  });
});

describe('invalid() fixtures are always rejected, for their labelled reason', () => {
  const expected: Record<string, { kind: ContractErrorKind; path?: string; message: RegExp }> = {
    'total-mismatch': { kind: 'schema', path: 'data.totalMinor', message: /^must equal the sum of quantity x unitPriceMinor/ },
    'zero-quantity': { kind: 'schema', path: 'data.lines.0.quantity', message: /^must be at least 1$/ },
    'unknown-type': { kind: 'unknown-type', message: /^unknown event type "order\.refunded"/ },
    'unknown-version': { kind: 'unknown-version', message: /^unknown version 9 of event type "order\.shipped"/ },
    'missing-field': { kind: 'schema', path: 'data.currency', message: /^is required$/ },
    'bad-currency': { kind: 'schema', path: 'data.currency', message: /^must be an active ISO-4217 currency code/ },
    'bad-id': { kind: 'schema', path: 'id', message: /^must be a UUID/ },
  };

  it('across 30 seeds x 30 draws, every label appears and each is rejected for exactly its reason', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed += 1) {
      const fixtures = createFixtures({ seed });
      for (let i = 0; i < 30; i += 1) {
        const { kind, value } = fixtures.invalid();
        seen.add(kind);
        const rule = expected[kind];
        expect(rule, `unexpected invalid fixture kind "${kind}"`).toBeDefined();
        const result = registry.safeParse(value);
        expect(result.ok, kind).toBe(false);
        if (result.ok || !rule) continue;
        expect(result.error.kind, kind).toBe(rule.kind);
        if (rule.path === undefined) {
          expect(result.error.message, kind).toMatch(rule.message);
        } else {
          expect(result.error.issues, kind).toHaveLength(1);
          expect(result.error.issues[0]!.path, kind).toBe(rule.path);
          expect(result.error.issues[0]!.message, kind).toMatch(rule.message);
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(expected).sort());
  });

  it('are deterministic too', () => {
    const a = createFixtures({ seed: 3 });
    const b = createFixtures({ seed: 3 });
    for (let i = 0; i < 50; i += 1) expect(JSON.stringify(a.invalid())).toBe(JSON.stringify(b.invalid()));
  });
});
