/** Event-filtering pattern syntax on JSON data (pure; EventBridge comparison operators as Lambda uses them). */
import { describe, expect, it } from 'vitest';
import { compileFilters, FilterPatternError } from '../../kinesis/filter-pattern';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const matches = (patterns: Record<string, unknown>[], data: unknown) => compileFilters(patterns)!.matches(bytes(data));
const dataRule = (rule: Record<string, unknown>) => [{ data: rule }];

describe('filter patterns', () => {
  it('no patterns: no filter', () => {
    expect(compileFilters([])).toBeUndefined();
  });

  it.each([
    ['string equality', { type: ['order.placed'] }, { type: 'order.placed' }, { type: 'order.paid' }],
    ['OR within a rule list', { type: ['a', 'b'] }, { type: 'b' }, { type: 'c' }],
    ['AND across fields', { type: ['a'], region: ['eu'] }, { type: 'a', region: 'eu' }, { type: 'a', region: 'us' }],
    ['number equality', { n: [3] }, { n: 3 }, { n: 4 }],
    ['null', { n: [null] }, { n: null }, { n: 0 }],
    ['empty string', { s: [''] }, { s: '' }, { s: ' ' }],
    ['prefix', { s: [{ prefix: 'ord' }] }, { s: 'order' }, { s: 'Order' }],
    ['prefix ignoring case', { s: [{ prefix: { 'equals-ignore-case': 'ORD' } }] }, { s: 'order' }, { s: 'xorder' }],
    ['suffix', { f: [{ suffix: '.png' }] }, { f: 'a.png' }, { f: 'a.jpg' }],
    ['equals-ignore-case', { s: [{ 'equals-ignore-case': 'ALICE' }] }, { s: 'alice' }, { s: 'alicia' }],
    ['wildcard', { p: [{ wildcard: 'orders/*/paid' }] }, { p: 'orders/42/paid' }, { p: 'orders/42/shipped' }],
    ['numeric range', { n: [{ numeric: ['>', 10, '<=', 20] }] }, { n: 20 }, { n: 10 }],
    ['numeric equals', { n: [{ numeric: ['=', 100] }] }, { n: 100 }, { n: 101 }],
    ['numeric on a string never matches', { n: [{ numeric: ['>', 1] }] }, { n: 5 }, { n: '5' }],
    ['exists', { id: [{ exists: true }] }, { id: 1 }, { other: 1 }],
    ['does not exist', { id: [{ exists: false }] }, { other: 1 }, { id: 1 }],
    ['anything-but a value', { s: [{ 'anything-but': 'raining' }] }, { s: 'sunny' }, { s: 'raining' }],
    ['anything-but a list', { s: [{ 'anything-but': ['a', 'b'] }] }, { s: 'c' }, { s: 'b' }],
    ['anything-but a prefix', { s: [{ 'anything-but': { prefix: 'us-' } }] }, { s: 'eu-west-1' }, { s: 'us-east-1' }],
    ['anything-but needs the field', { s: [{ 'anything-but': 'x' }] }, { s: 'y' }, { t: 'y' }],
    ['nested fields', { order: { total: [{ numeric: ['>=', 100] }] } }, { order: { total: 150 } }, { order: { total: 50 } }],
    ['nested pattern on a non-object', { order: { total: [1] } }, { order: { total: 1 } }, { order: 'x' }],
    ['an array matches when any element matches', { tags: ['vip'] }, { tags: ['new', 'vip'] }, { tags: ['new'] }],
    ['$or', { $or: [{ a: [1] }, { b: [2] }] }, { b: 2 }, { a: 2, b: 1 }],
  ])('%s', (_name, rule, matching, nonMatching) => {
    expect(matches(dataRule(rule), matching)).toBe(true);
    expect(matches(dataRule(rule), nonMatching)).toBe(false);
  });

  it('filters are ORed', () => {
    const patterns = [{ data: { a: [1] } }, { data: { b: [1] } }];
    expect(matches(patterns, { b: 1 })).toBe(true);
    expect(matches(patterns, { c: 1 })).toBe(false);
  });

  it('non-JSON data never matches a data filter', () => {
    expect(matches(dataRule({ a: [{ exists: false }] }), 'plain text')).toBe(false);
    expect(compileFilters(dataRule({ a: [{ exists: false }] }))!.matches(Uint8Array.from([0xff, 0xfe]))).toBe(false);
  });

  it.each([
    [[{ partitionKey: ['1'] }], /only support filtering on the "data" key/],
    [dataRule({ a: [{ numeric: ['~', 1] }] }), /unknown numeric operator/],
    [dataRule({ a: [{ regex: 'x' }] }), /unsupported operator "regex"/],
    [dataRule({ a: [] }), /must not be empty/],
    [dataRule({ a: 'x' }), /must be a list or a nested pattern object/],
    [dataRule({ a: [{ exists: 'yes' }] }), /"exists" expects true or false/],
  ])('rejects %j', (patterns, message) => {
    expect(() => compileFilters(patterns as Record<string, unknown>[])).toThrow(FilterPatternError);
    expect(() => compileFilters(patterns as Record<string, unknown>[])).toThrow(message);
  });
});
