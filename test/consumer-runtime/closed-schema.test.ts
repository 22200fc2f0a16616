/**
 * consumers/runtime/closed-schema.ts: which contracts let the runtime skip the forbidden-key / depth
 * inspection of a valid event. A wrong "closed" would let a key such as __proto__ or an unbounded depth
 * through unchecked, so every zod v4 shape is pinned, and anything unknown must answer "open".
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isClosedSchema } from '../../consumers/runtime/closed-schema';

describe('isClosedSchema (zod v4)', () => {
  it.each([
    ['string', z.string()],
    ['number', z.number()],
    ['int', z.int()],
    ['boolean', z.boolean()],
    ['bigint', z.bigint()],
    ['null', z.null()],
    ['undefined', z.undefined()],
    ['void', z.void()],
    ['never', z.never()],
    ['enum', z.enum(['a', 'b'])],
    ['literal', z.literal('x')],
    ['nan', z.nan()],
    ['template literal', z.templateLiteral(['order-', z.number()])],
    ['date', z.date()],
    ['optional', z.string().optional()],
    ['nullable', z.number().nullable()],
    ['default', z.string().default('x')],
    ['prefault', z.string().prefault('x')],
    ['catch', z.string().catch('x')],
    ['readonly', z.object({ a: z.string() }).readonly()],
    ['nonoptional', z.string().optional().nonoptional()],
    ['strip object of closed fields', z.object({ a: z.string(), b: z.object({ c: z.number() }) })],
    ['strict object', z.strictObject({ a: z.string() })],
    ['array of closed', z.array(z.object({ a: z.string() }))],
    ['tuple without rest', z.tuple([z.string(), z.number()])],
    ['tuple with a closed rest', z.tuple([z.string()], z.number())],
    ['union', z.union([z.string(), z.object({ a: z.number() })])],
    ['intersection', z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() }))],
    ['pipe of closed', z.string().pipe(z.string().min(1))],
    ['refined object', z.object({ a: z.string() }).refine((v) => v.a !== '')],
  ])('%s is closed', (_name, schema) => {
    expect(isClosedSchema(schema)).toBe(true);
  });

  it.each([
    ['looseObject (passthrough)', z.looseObject({ a: z.string() })],
    ['object with a catchall', z.object({ a: z.string() }).catchall(z.string())],
    ['object with one open field', z.object({ a: z.string(), b: z.record(z.string(), z.string()) })],
    ['record', z.record(z.string(), z.number())],
    ['unknown', z.unknown()],
    ['any', z.any()],
    ['lazy', z.lazy(() => z.string())],
    ['transform', z.string().transform((s) => s.length)],
    ['array of open', z.array(z.unknown())],
    ['tuple with an open item', z.tuple([z.string(), z.unknown()])],
    ['tuple with an open rest', z.tuple([z.string()], z.unknown())],
    ['union with an open option', z.union([z.string(), z.unknown()])],
    ['intersection with an open side (left)', z.intersection(z.unknown(), z.object({ b: z.number() }))],
    ['intersection with an open side (right)', z.intersection(z.object({ b: z.number() }), z.unknown())],
    ['pipe into an open schema', z.string().pipe(z.unknown() as unknown as z.ZodString)],
    ['pipe from an open schema', z.unknown().pipe(z.string())],
    ['optional of open', z.unknown().optional()],
    ['map', z.map(z.string(), z.string())],
    ['not a schema', { type: 'string' }],
    ['undefined', undefined],
    ['a def without a type', { _zod: { def: {} } }],
  ])('%s is open', (_name, schema) => {
    expect(isClosedSchema(schema)).toBe(false);
  });

  it('gives up (open) past 64 levels of nesting instead of recursing without bound', () => {
    let deep: z.ZodType = z.string();
    for (let i = 0; i < 64; i++) deep = z.array(deep);
    expect(isClosedSchema(deep)).toBe(true);
    expect(isClosedSchema(z.array(deep))).toBe(false);
  });

});
