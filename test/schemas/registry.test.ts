import { describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import {
  ContractError,
  EVENT_DEFINITIONS,
  EventRegistry,
  EventValidationError,
  UnknownEventTypeError,
  UnknownEventVersionError,
  envelopeSchema,
  orderPartitionKey,
  orderPaidV1,
  registry,
} from '../../schemas/index';
import { withField, withoutField } from './edit';

const fixtures = () => createFixtures({ seed: 11 });

function failure(input: unknown): ContractError {
  const result = registry.safeParse(input);
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

describe('registry lookup', () => {
  it('registers every contract once, by (type, version)', () => {
    expect(registry.types).toEqual(['order.placed', 'order.paid', 'order.shipped', 'order.cancelled']);
    expect(registry.definitions.map((d) => `${d.type} v${d.version}`)).toEqual([
      'order.placed v1',
      'order.paid v1',
      'order.shipped v1',
      'order.cancelled v1',
    ]);
    for (const def of EVENT_DEFINITIONS) expect(registry.lookup(def.type, def.version)).toBe(def);
  });

  it('unknown type: a typed UnknownEventTypeError listing the known types', () => {
    const lookup = () => registry.lookup('order.refunded', 1);
    expect(lookup).toThrow(UnknownEventTypeError);
    try {
      lookup();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      expect(error).not.toBeInstanceOf(UnknownEventVersionError);
      const e = error as UnknownEventTypeError;
      expect(e.kind).toBe('unknown-type');
      expect(e.name).toBe('UnknownEventTypeError');
      expect(e.type).toBe('order.refunded');
      expect(e.knownTypes).toEqual(registry.types);
      expect(e.message).toBe(
        'unknown event type "order.refunded"; known types: order.placed, order.paid, order.shipped, order.cancelled',
      );
    }
  });

  it('unknown version: a typed UnknownEventVersionError listing the known versions of that type', () => {
    const lookup = () => registry.lookup('order.shipped', 3);
    expect(lookup).toThrow(UnknownEventVersionError);
    try {
      lookup();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      expect(error).not.toBeInstanceOf(UnknownEventTypeError);
      const e = error as UnknownEventVersionError;
      expect(e.kind).toBe('unknown-version');
      expect(e.type).toBe('order.shipped');
      expect(e.version).toBe(3);
      expect(e.knownVersions).toEqual([1]);
      expect(e.message).toBe('unknown version 3 of event type "order.shipped"; known versions: 1');
    }
  });

  it('safeParse returns the same typed errors for well-formed envelopes of unknown contracts', () => {
    const paid = fixtures().orderPaid();
    const typeError = failure({ ...paid, type: 'order.refunded' });
    expect(typeError).toBeInstanceOf(UnknownEventTypeError);
    expect(typeError.kind).toBe('unknown-type');
    const versionError = failure({ ...paid, version: 2 });
    expect(versionError).toBeInstanceOf(UnknownEventVersionError);
    expect(versionError.kind).toBe('unknown-version');
    expect(versionError.message).toContain('known versions: 1');
  });

  it('parse throws the typed error; safeParse returns the matching definition on success', () => {
    const paid = fixtures().orderPaid();
    expect(() => registry.parse({ ...paid, type: 'order.refunded' })).toThrow(UnknownEventTypeError);
    expect(() => registry.parse({ ...paid, version: 7 })).toThrow(UnknownEventVersionError);
    expect(() => registry.parse(withField(paid, 'data.amountMinor', -1))).toThrow(EventValidationError);
    const ok = registry.safeParse(paid);
    expect(ok.ok && ok.definition).toBe(orderPaidV1);
  });

  it('refuses to register the same (type, version) twice', () => {
    expect(() => new EventRegistry([...EVENT_DEFINITIONS, orderPaidV1])).toThrow('duplicate contract order.paid v1');
  });
});

describe('envelope errors (before any event schema is chosen)', () => {
  const base = () => fixtures().orderPlaced();

  it.each([
    ['null', null, '', 'must be a JSON object (the event envelope)'],
    ['an array', [], '', 'must be a JSON object (the event envelope)'],
    ['a string', 'order.placed', '', 'must be a JSON object (the event envelope)'],
    ['a number', 42, '', 'must be a JSON object (the event envelope)'],
  ])('rejects %s as input', (_label, input, path, message) => {
    const error = failure(input);
    expect(error).toBeInstanceOf(EventValidationError);
    expect(error.kind).toBe('envelope');
    expect(error.issues).toEqual([{ path, message }]);
    expect(error.message).toBe(`invalid event envelope: ${message}`);
  });

  it.each([
    ['missing type', (e: unknown) => withoutField(e, 'type'), 'type', 'is required'],
    ['type not dotted lower-case', (e: unknown) => withField(e, 'type', 'OrderPlaced'), 'type', 'must be a dotted lower-case name such as "order.placed"'],
    ['missing version', (e: unknown) => withoutField(e, 'version'), 'version', 'is required'],
    ['version as a string', (e: unknown) => withField(e, 'version', '1'), 'version', 'must be an integer'],
    ['version 0', (e: unknown) => withField(e, 'version', 0), 'version', 'must be a positive integer'],
    ['fractional version', (e: unknown) => withField(e, 'version', 1.5), 'version', 'must be an integer'],
  ])('%s -> envelope error at %s', (_label, make, path, message) => {
    const error = failure(make(base()));
    expect(error.kind).toBe('envelope');
    expect(error.issues).toEqual([{ path, message }]);
  });

  it.each([
    ['id not a UUID', (e: unknown) => withField(e, 'id', 'order-1'), 'id', 'must be a UUID (the idempotency key)'],
    ['missing id', (e: unknown) => withoutField(e, 'id'), 'id', 'is required'],
    [
      'occurredAt without offset',
      (e: unknown) => withField(e, 'occurredAt', '2026-01-31T12:00:00'),
      'occurredAt',
      'must be an ISO-8601 date-time with a UTC offset, e.g. "2026-01-31T12:00:00Z"',
    ],
    ['occurredAt as epoch millis', (e: unknown) => withField(e, 'occurredAt', 1767225600000), 'occurredAt', 'must be an ISO-8601 date-time with a UTC offset, e.g. "2026-01-31T12:00:00Z"'],
    ['empty source', (e: unknown) => withField(e, 'source', ''), 'source', 'must not be empty'],
    ['source longer than 100', (e: unknown) => withField(e, 'source', 's'.repeat(101)), 'source', 'must be at most 100 characters'],
    ['empty traceId', (e: unknown) => withField(e, 'traceId', ''), 'traceId', 'must not be empty'],
    ['negative hops', (e: unknown) => withField(e, 'hops', -1), 'hops', 'must not be negative'],
    ['fractional hops', (e: unknown) => withField(e, 'hops', 0.5), 'hops', 'must be an integer'],
    ['hops above 1000', (e: unknown) => withField(e, 'hops', 1001), 'hops', 'must be at most 1000'],
  ])('%s -> error at %s on a known contract', (_label, make, path, message) => {
    const error = failure(make(base()));
    expect(error.issues).toEqual([{ path, message }]);
  });

  it('reports a malformed envelope as such even when its type is also unknown', () => {
    const error = failure({ ...base(), type: 'order.refunded', id: 'nope' });
    expect(error.kind).toBe('envelope');
    expect(error.issues).toEqual([{ path: 'id', message: 'must be a UUID (the idempotency key)' }]);
  });

  it('envelopeSchema accepts any registered event with data left open', () => {
    for (const event of fixtures().take(50)) expect(envelopeSchema.safeParse(event).success).toBe(true);
  });
});

describe('hops', () => {
  it('defaults to 0 when absent', () => {
    const event = withoutField(fixtures().orderShipped(), 'hops');
    expect(event).not.toHaveProperty('hops');
    expect(registry.parse(event).hops).toBe(0);
  });

  it('keeps a given hop count', () => {
    expect(registry.parse(withField(fixtures().orderShipped(), 'hops', 3)).hops).toBe(3);
  });
});

describe('strictness: unknown fields are rejected, never silently dropped', () => {
  const placed = () => fixtures().orderPlaced();
  it.each([
    ['envelope', 'tenant'],
    ['data', 'data.coupon'],
    ['data.customer', 'data.customer.phone'],
    ['data.lines item', 'data.lines.0.color'],
    ['data.shippingAddress', 'data.shippingAddress.floor'],
  ])('at the %s level', (_level, path) => {
    const error = failure(withField(placed(), path, 'x'));
    expect(error.kind).toBe('schema');
    expect(error.issues).toEqual([{ path, message: 'is not a known field' }]);
  });

  it('names every unknown field', () => {
    const input = { ...placed(), a: 1, b: 2 };
    expect(failure(input).issues).toEqual([
      { path: 'a', message: 'is not a known field' },
      { path: 'b', message: 'is not a known field' },
    ]);
  });
});

describe('partition key', () => {
  it('is the orderId of every event type', () => {
    for (const event of fixtures().take(40)) expect(orderPartitionKey(event)).toBe(event.data.orderId);
  });
});
