/**
 * A v2 of an event lives next to v1 with a one-line registry change: here a test-only
 * `order.shipped` v2 (structured carrier, shippedAt) is registered beside the real contracts.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createFixtures } from '../../schemas/fixtures';
import {
  EVENT_DEFINITIONS,
  EventRegistry,
  UnknownEventVersionError,
  defineEvent,
  type EventOfDefinition,
  type OrderEvent,
} from '../../schemas/index';
import { jsonSchemaFileName, renderJsonSchemaFiles } from '../../schemas/json-schema';
import { closedObject, need, orderId } from '../../schemas/primitives';

const orderShippedV2 = defineEvent({
  type: 'order.shipped',
  version: 2,
  description: 'TEST ONLY: order.shipped v2 with a carrier code and the ship time.',
  data: closedObject({
    orderId,
    carrier: z.enum(['DHL', 'UPS', 'FEDEX'], { error: need('must be one of DHL, UPS, FEDEX') }),
    trackingNumber: z
      .string({ error: need('must be a string') })
      .regex(/^[A-Z0-9]{8,30}$/, { error: 'must be 8-30 upper-case letters or digits' }),
    shippedAt: z.iso.datetime({ offset: true, error: need('must be an ISO-8601 date-time with a UTC offset') }),
  }),
});

type ShippedV2 = EventOfDefinition<typeof orderShippedV2>;

// The one-line change: append the new definition.
const registry = new EventRegistry<OrderEvent | ShippedV2>([...EVENT_DEFINITIONS, orderShippedV2]);

const v1 = () => createFixtures({ seed: 8 }).orderShipped();
const v2 = (): ShippedV2 => ({
  ...v1(),
  version: 2,
  data: { orderId: 'ord_12345', carrier: 'UPS', trackingNumber: '1Z999AA10123456784', shippedAt: '2026-03-01T10:00:00+01:00' },
});

describe('a v2 next to v1', () => {
  it('both versions are registered under the same type', () => {
    expect(registry.types).toEqual(['order.placed', 'order.paid', 'order.shipped', 'order.cancelled']);
    expect(registry.lookup('order.shipped', 1).version).toBe(1);
    expect(registry.lookup('order.shipped', 2)).toBe(orderShippedV2);
  });

  it('each version validates its own events', () => {
    const one = registry.safeParse(v1());
    const two = registry.safeParse(v2());
    expect(one.ok && one.definition.version).toBe(1);
    expect(two.ok && two.definition.version).toBe(2);
    expect(two.ok && two.event).toEqual(v2());
  });

  it('versions are independent: a v1 body labelled v2 fails v2 rules, and vice versa', () => {
    const v1AsV2 = registry.safeParse({ ...v1(), version: 2 });
    expect(v1AsV2.ok).toBe(false);
    if (!v1AsV2.ok) {
      expect(v1AsV2.error.message).toMatch(/^invalid order\.shipped v2: /);
      expect(v1AsV2.error.issues).toContainEqual({ path: 'data.shippedAt', message: 'is required' });
    }
    const v2AsV1 = registry.safeParse({ ...v2(), version: 1 });
    expect(v2AsV1.ok).toBe(false);
    if (!v2AsV1.ok) expect(v2AsV1.error.issues).toContainEqual({ path: 'data.shippedAt', message: 'is not a known field' });
  });

  it('an unknown version now lists both known versions', () => {
    const result = registry.safeParse({ ...v1(), version: 3 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(UnknownEventVersionError);
    expect((result.error as UnknownEventVersionError).knownVersions).toEqual([1, 2]);
    expect(result.error.message).toBe('unknown version 3 of event type "order.shipped"; known versions: 1, 2');
  });

  it('the JSON Schema export picks up v2 as its own file', () => {
    const files = renderJsonSchemaFiles(registry.definitions);
    expect(files.has(jsonSchemaFileName({ type: 'order.shipped', version: 1 }))).toBe(true);
    const schema = JSON.parse(files.get('order.shipped.v2.schema.json')!) as { title: string; $id: string };
    expect(schema.title).toBe('order.shipped v2');
    expect(schema.$id).toBe('urn:kinesis-pipeline:event:order.shipped:v2');
  });

  it('parse results narrow by type and version', () => {
    const event = registry.parse(v2());
    if (event.type === 'order.shipped' && event.version === 2) {
      expectTypeOf(event.data.shippedAt).toEqualTypeOf<string>();
      expect(event.data.shippedAt).toBe('2026-03-01T10:00:00+01:00');
    } else {
      throw new Error('expected order.shipped v2');
    }
  });
});
