/**
 * The envelope every event shares. `id` is the idempotency key: consumers de-duplicate on it
 * because Kinesis and Lambda deliver at least once.
 */
import * as z from 'zod';
import { need, text } from './primitives';

/** Consumers refuse events that have been re-emitted more often than this (loop guard default). */
export const DEFAULT_MAX_HOPS = 5;

export const eventType = z
  .string({ error: need('must be a string') })
  .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, {
    error: 'must be a dotted lower-case name such as "order.placed"',
  })
  .max(100, { error: 'must be at most 100 characters' });

export const envelopeFields = {
  id: z.uuid({ error: need('must be a UUID (the idempotency key)') }),
  type: eventType,
  version: z.int({ error: need('must be an integer') }).positive({ error: 'must be a positive integer' }),
  occurredAt: z.iso.datetime({
    offset: true,
    error: need('must be an ISO-8601 date-time with a UTC offset, e.g. "2026-01-31T12:00:00Z"'),
  }),
  source: text(100),
  traceId: text(200).optional(),
  hops: z
    .int({ error: need('must be an integer') })
    .min(0, { error: 'must not be negative' })
    .max(1000, { error: 'must be at most 1000' })
    .default(0),
};

/** Envelope with `data` left open: the first validation step, before the event's own schema is chosen. */
export const envelopeSchema = z.strictObject(
  { ...envelopeFields, data: z.unknown() },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? undefined : 'must be a JSON object (the event envelope)') },
);

export type Envelope = z.output<typeof envelopeSchema>;
export type EnvelopeInput = z.input<typeof envelopeSchema>;
