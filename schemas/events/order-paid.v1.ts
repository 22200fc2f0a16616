import * as z from 'zod';
import { closedObject, currency, minorUnits, need, orderId, text } from '../primitives';
import { defineEvent } from '../define-event';

export const PAYMENT_METHODS = ['card', 'paypal', 'bank_transfer', 'gift_card'] as const;

export const orderPaidV1 = defineEvent({
  type: 'order.paid',
  version: 1,
  description: 'Payment for an order was captured. Partition key: data.orderId.',
  data: closedObject({
    orderId,
    paymentId: text(64),
    amountMinor: minorUnits,
    currency,
    method: z.enum(PAYMENT_METHODS, { error: need(`must be one of ${PAYMENT_METHODS.join(', ')}`) }),
  }),
});
