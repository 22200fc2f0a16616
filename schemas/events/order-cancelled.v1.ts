import * as z from 'zod';
import { closedObject, need, orderId, text } from '../primitives';
import { defineEvent } from '../define-event';

export const CANCELLATION_REASONS = [
  'customer_request',
  'payment_failed',
  'out_of_stock',
  'fraud_suspected',
  'other',
] as const;

export const orderCancelledV1 = defineEvent({
  type: 'order.cancelled',
  version: 1,
  description: 'An order was cancelled. Partition key: data.orderId.',
  data: closedObject({
    orderId,
    reason: z.enum(CANCELLATION_REASONS, { error: need(`must be one of ${CANCELLATION_REASONS.join(', ')}`) }),
    note: text(500).optional(),
  })
    .refine((c) => c.reason !== 'other' || c.note !== undefined, {
      path: ['note'],
      error: 'is required when reason is "other"',
    })
    .meta({
      description: 'note is required when reason is "other" (enforced by the TypeScript contract and by if/then below).',
      // The same rule in JSON Schema terms, for the exported schema (zod cannot translate refinements).
      if: { properties: { reason: { const: 'other' } }, required: ['reason'] },
      then: { required: ['note'] },
    }),
});
