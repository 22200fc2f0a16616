import * as z from 'zod';
import { closedObject, need, orderId, text } from '../primitives';
import { defineEvent } from '../define-event';

export const orderShippedV1 = defineEvent({
  type: 'order.shipped',
  version: 1,
  description: 'An order left the warehouse. Partition key: data.orderId.',
  data: closedObject({
    orderId,
    carrier: text(64),
    trackingNumber: z
      .string({ error: need('must be a string') })
      .regex(/^[A-Za-z0-9-]{5,40}$/, { error: 'must be 5-40 letters, digits or "-"' }),
    warehouseId: text(64).optional(),
  }),
});
