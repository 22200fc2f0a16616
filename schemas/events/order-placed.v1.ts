import * as z from 'zod';
import { closedObject, country, currency, minorUnits, need, orderId, sku, text } from '../primitives';
import { defineEvent } from '../define-event';

export const MAX_LINE_ITEMS = 100;

const lineItem = closedObject({
  sku,
  quantity: z
    .int({ error: need('must be an integer') })
    .min(1, { error: 'must be at least 1' })
    .max(10_000, { error: 'must be at most 10000' }),
  unitPriceMinor: minorUnits,
});

const address = closedObject({
  name: text(200),
  line1: text(200),
  line2: text(200).optional(),
  city: text(100),
  postalCode: text(20),
  region: text(100).optional(),
  country,
});

export const orderPlacedV1 = defineEvent({
  type: 'order.placed',
  version: 1,
  description: 'A customer placed an order. Partition key: data.orderId.',
  data: closedObject({
    orderId,
    customer: closedObject({
      customerId: text(64),
      email: z.email({ error: need('must be an e-mail address') }).max(254, { error: 'must be at most 254 characters' }),
    }),
    currency,
    lines: z
      .array(lineItem, { error: need('must be an array of line items') })
      .min(1, { error: 'must contain at least one line item' })
      .max(MAX_LINE_ITEMS, { error: `must contain at most ${MAX_LINE_ITEMS} line items` }),
    totalMinor: minorUnits,
    shippingAddress: address,
  })
    .superRefine((order, ctx) => {
      // Only once every field is valid: a bad line (e.g. a negative price) must not also report a bogus
      // total. Checked here rather than with the `when` option, which would keep zod's compiled fast
      // path (z.compile, used by the registry) from compiling this object.
      if (ctx.issues.length > 0) return;
      const sum = order.lines.reduce((acc, line) => acc + line.quantity * line.unitPriceMinor, 0);
      if (sum !== order.totalMinor) {
        ctx.addIssue({
          code: 'custom',
          path: ['totalMinor'],
          message: `must equal the sum of quantity x unitPriceMinor over the lines (${sum}), got ${order.totalMinor}`,
        });
      }
    })
    .meta({
      // JSON Schema cannot compare fields arithmetically: say so in the exported schema.
      description:
        'totalMinor must equal the sum of quantity x unitPriceMinor over the lines. JSON Schema cannot express ' +
        'this cross-field rule; the TypeScript contract (schemas/) enforces it, so producers in other languages must check it themselves.',
    }),
});
