/**
 * The event contracts of the order domain. To support a new version of an event, write its
 * definition file and add it to EVENT_DEFINITIONS: that one line registers it everywhere
 * (validation, consumers, JSON Schema export, fixtures).
 */
import type { EventOfDefinition } from './define-event';
import { orderCancelledV1 } from './events/order-cancelled.v1';
import { orderPaidV1 } from './events/order-paid.v1';
import { orderPlacedV1 } from './events/order-placed.v1';
import { orderShippedV1 } from './events/order-shipped.v1';
import { EventRegistry } from './registry';

export const EVENT_DEFINITIONS = [orderPlacedV1, orderPaidV1, orderShippedV1, orderCancelledV1] as const;

/** Any valid event of the domain, discriminated by `type` (and `version`). */
export type OrderEvent = EventOfDefinition<(typeof EVENT_DEFINITIONS)[number]>;
export type OrderEventType = OrderEvent['type'];
export type OrderEventOf<T extends OrderEventType> = Extract<OrderEvent, { type: T }>;

export const registry = new EventRegistry<OrderEvent>(EVENT_DEFINITIONS);

/** Partition key of an order event: its orderId, so one order's events stay ordered on one shard. */
export function orderPartitionKey(event: { data: { orderId: string } }): string {
  return event.data.orderId;
}

export { orderPlacedV1, orderPaidV1, orderShippedV1, orderCancelledV1 };
export { EventRegistry, type ContractValidator, type EventRegistryOptions, type ParseResult } from './registry';
export { defineEvent, type EventDefinition, type EventOf, type EventOfDefinition } from './define-event';
export { envelopeSchema, DEFAULT_MAX_HOPS, type Envelope } from './envelope';
export * from './errors';
