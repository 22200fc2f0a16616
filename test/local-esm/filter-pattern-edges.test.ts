/**
 * The edges of the event-filtering syntax (kinesis/filter-pattern.ts; issue 19: the mutants
 * filter-pattern.test.ts let survive). Rules: Lambda pages invocation-eventfiltering and
 * with-kinesis-filtering ("Kinesis event source mappings only support filtering on the data key",
 * data must be JSON, up to 5 filters ORed) and the EventBridge comparison operators they reference.
 */
import { describe, expect, it } from 'vitest';
import { compileDataPredicate, compileFilters, FilterPatternError } from '../../kinesis/filter-pattern';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const matches = (rule: Record<string, unknown>, data: unknown) => compileFilters([{ data: rule }])!.matches(bytes(data));
const field = (rule: unknown) => ({ v: [rule] });

describe('comparison operators at their boundaries', () => {
  it.each([
    ['<', 10, [9, true], [10, false], [11, false]],
    ['<=', 10, [9, true], [10, true], [11, false]],
    ['>', 10, [9, false], [10, false], [11, true]],
    ['>=', 10, [9, false], [10, true], [11, true]],
    ['=', 10, [9, false], [10, true], [11, false]],
  ] as const)('numeric %s %d', (op, bound, below, at, above) => {
    const rule = field({ numeric: [op, bound] });
    expect(matches(rule, { v: below[0] })).toBe(below[1]);
    expect(matches(rule, { v: at[0] })).toBe(at[1]);
    expect(matches(rule, { v: above[0] })).toBe(above[1]);
  });

  it('a numeric range needs both comparisons to hold', () => {
    const rule = field({ numeric: ['>=', 0, '<', 5] });
    expect([-1, 0, 4, 5].map((v) => matches(rule, { v }))).toEqual([false, true, true, false]);
  });

  it('equality is strict: a boolean rule matches the boolean only, a number rule not its string', () => {
    expect(matches(field(true), { v: true })).toBe(true);
    expect(matches(field(true), { v: 'true' })).toBe(false);
    expect(matches(field(false), { v: false })).toBe(true);
    expect(matches(field(3), { v: '3' })).toBe(false);
    expect(matches(field(null), { v: null })).toBe(true);
  });

  it('suffix ignoring case', () => {
    const rule = field({ suffix: { 'equals-ignore-case': '.PNG' } });
    expect(matches(rule, { v: 'photo.png' })).toBe(true);
    expect(matches(rule, { v: 'photo.PnG' })).toBe(true);
    expect(matches(rule, { v: 'photo.jpg' })).toBe(false);
    // A case-sensitive suffix does not fold case.
    expect(matches(field({ suffix: '.PNG' }), { v: 'photo.png' })).toBe(false);
  });

  it('prefix ignoring case folds the value as well as the rule', () => {
    expect(matches(field({ prefix: { 'equals-ignore-case': 'ord' } }), { v: 'ORDER' })).toBe(true);
    expect(matches(field({ prefix: 'ORD' }), { v: 'ORDER' })).toBe(true);
    expect(matches(field({ prefix: 'ORD' }), { v: 'order' })).toBe(false);
  });

  it('string operators never match a non-string value', () => {
    expect(matches(field({ prefix: '1' }), { v: 12 })).toBe(false);
    expect(matches(field({ suffix: '2' }), { v: 12 })).toBe(false);
    expect(matches(field({ 'equals-ignore-case': '12' }), { v: 12 })).toBe(false);
    expect(matches(field({ wildcard: '1*' }), { v: 12 })).toBe(false);
    expect(matches(field({ 'equals-ignore-case': 'ALICE' }), { v: 'Alice' })).toBe(true);
  });

  it('wildcard: "*" matches any run of characters (newlines included), everything else literally, the whole value', () => {
    expect(matches(field({ wildcard: 'a.b*' }), { v: 'a.bc' })).toBe(true);
    expect(matches(field({ wildcard: 'a.b*' }), { v: 'axbc' })).toBe(false);
    expect(matches(field({ wildcard: '(x)+[y]?$' }), { v: '(x)+[y]?$' })).toBe(true);
    expect(matches(field({ wildcard: '(x)+[y]?$' }), { v: 'xxy' })).toBe(false);
    expect(matches(field({ wildcard: 'a*' }), { v: 'a\nb' })).toBe(true);
    expect(matches(field({ wildcard: 'a*' }), { v: 'ba' })).toBe(false);
    expect(matches(field({ wildcard: '*a' }), { v: 'ab' })).toBe(false);
    expect(matches(field({ wildcard: 'a*c*e' }), { v: 'abcde' })).toBe(true);
  });

  it('anything-but: a number, a list with numbers, equals-ignore-case, suffix and wildcard objects', () => {
    expect(matches(field({ 'anything-but': 5 }), { v: 6 })).toBe(true);
    expect(matches(field({ 'anything-but': 5 }), { v: 5 })).toBe(false);
    expect(matches(field({ 'anything-but': [1, 'one'] }), { v: 1 })).toBe(false);
    expect(matches(field({ 'anything-but': [1, 'one'] }), { v: 'two' })).toBe(true);
    expect(matches(field({ 'anything-but': { 'equals-ignore-case': 'RAIN' } }), { v: 'rain' })).toBe(false);
    expect(matches(field({ 'anything-but': { 'equals-ignore-case': 'RAIN' } }), { v: 'sun' })).toBe(true);
    expect(matches(field({ 'anything-but': { suffix: '.tmp' } }), { v: 'a.tmp' })).toBe(false);
    expect(matches(field({ 'anything-but': { suffix: '.tmp' } }), { v: 'a.txt' })).toBe(true);
    expect(matches(field({ 'anything-but': { wildcard: 'test-*' } }), { v: 'test-1' })).toBe(false);
    expect(matches(field({ 'anything-but': { wildcard: 'test-*' } }), { v: 'prod-1' })).toBe(true);
  });

  it('anything-but never matches an absent value, even through the data predicate the consumer runtime uses', () => {
    expect(compileDataPredicate([{ data: [{ 'anything-but': 'x' }] }])(undefined)).toBe(false);
    expect(compileDataPredicate([{ data: [{ 'anything-but': 'x' }] }])('y')).toBe(true);
  });

  it('exists looks at the event\'s own fields: an inherited property is not a field', () => {
    expect(matches({ toString: [{ exists: true }] }, {})).toBe(false);
  });

  it('a rule list mixing exists and values matches when either holds', () => {
    const rule = { v: [{ exists: false }, 'a'] };
    expect(matches(rule, {})).toBe(true);
    expect(matches(rule, { v: 'a' })).toBe(true);
    expect(matches(rule, { v: 'b' })).toBe(false);
  });
});

describe('patterns over the shape of the data', () => {
  it('the whole data can be matched by a rule list (a JSON string or number as data)', () => {
    expect(compileFilters([{ data: [{ prefix: 'ord' }] }])!.matches(bytes(JSON.stringify('order')))).toBe(true);
    expect(compileFilters([{ data: [{ prefix: 'ord' }] }])!.matches(bytes(JSON.stringify('paid')))).toBe(false);
    expect(compileFilters([{ data: [{ numeric: ['>', 1] }] }])!.matches(bytes('2'))).toBe(true);
  });

  it('fields of a pattern are keys of an object: an array or a scalar as data has none', () => {
    expect(matches({ '0': ['x'] }, ['x'])).toBe(false);
    expect(matches({ order: { total: [1] } }, null)).toBe(false);
    expect(matches({ order: { total: [1] } }, 5)).toBe(false);
    expect(matches({ order: { total: [{ exists: false }] } }, { order: null })).toBe(false);
  });

  it('$or inside a nested pattern, ANDed with the other fields', () => {
    const rule = { order: { $or: [{ total: [{ numeric: ['>', 100] }] }, { vip: [true] }] }, type: ['placed'] };
    expect(matches(rule, { order: { total: 150 }, type: 'placed' })).toBe(true);
    expect(matches(rule, { order: { total: 50, vip: true }, type: 'placed' })).toBe(true);
    expect(matches(rule, { order: { total: 50 }, type: 'placed' })).toBe(false);
    expect(matches(rule, { order: { total: 150 }, type: 'paid' })).toBe(false);
  });

  it('up to five filters, ORed: a record matching only the last one is sent', () => {
    const filters = [1, 2, 3, 4, 5].map((n) => ({ data: { n: [n] } }));
    expect(compileFilters(filters)!.matches(bytes({ n: 5 }))).toBe(true);
    expect(compileFilters(filters)!.matches(bytes({ n: 6 }))).toBe(false);
  });

  it('data that is not valid UTF-8 is not JSON: dropped even when the rest parses', () => {
    const invalid = Buffer.concat([Buffer.from('{"v":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(compileFilters([{ data: { v: [{ exists: true }] } }])!.matches(invalid)).toBe(false);
    expect(compileFilters([{ data: { v: [{ exists: true }] } }])!.matches(Buffer.from('{"v":"é"}'))).toBe(true);
  });
});

describe('a pattern Lambda would reject fails with a clear error naming where', () => {
  const rejects = (patterns: unknown[], message: string) => {
    let error: unknown;
    try {
      compileFilters(patterns as Record<string, unknown>[]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FilterPatternError);
    expect((error as Error).name).toBe('FilterPatternError');
    expect((error as Error).message).toBe(message);
  };

  it.each([
    [[{ data: { a: ['x'] } }, { partitionKey: ['1'] }], 'filter pattern at filterPatterns[1]: Kinesis event source mappings only support filtering on the "data" key, got "partitionKey"'],
    [[{ data: 'x' }], 'filter pattern at filterPatterns[0]: "data" must be a pattern object or a rule list'],
    [[{ data: [] }], 'filter pattern at filterPatterns[0].data: a rule list must not be empty'],
    [[{ data: { a: 'x' } }], 'filter pattern at filterPatterns[0].data.a: a field\'s rule must be a list or a nested pattern object, got "x"'],
    [[{ data: { a: [] } }], 'filter pattern at filterPatterns[0].data.a: a rule list must not be empty'],
    [[{ data: { a: { b: ['x', [1]] } } }], 'filter pattern at filterPatterns[0].data.a.b[1]: unsupported rule [1]'],
    [[{ data: { a: [{ prefix: 'x', suffix: 'y' }] } }], 'filter pattern at filterPatterns[0].data.a[0]: a rule object has exactly one operator, got ["prefix","suffix"]'],
    [[{ data: { a: [{}] } }], 'filter pattern at filterPatterns[0].data.a[0]: a rule object has exactly one operator, got []'],
    [[{ data: { a: [{ regex: 'x' }] } }], 'filter pattern at filterPatterns[0].data.a[0]: unsupported operator "regex"'],
    [[{ data: { a: [{ prefix: 1 }] } }], 'filter pattern at filterPatterns[0].data.a[0].prefix: expects a string or {"equals-ignore-case": string}'],
    [[{ data: { a: [{ suffix: { 'equals-ignore-case': 'x', other: 1 } }] } }], 'filter pattern at filterPatterns[0].data.a[0].suffix: expects a string or {"equals-ignore-case": string}'],
    [[{ data: { a: [{ prefix: { 'equals-ignore-case': 1 } }] } }], 'filter pattern at filterPatterns[0].data.a[0].prefix: expects a string or {"equals-ignore-case": string}'],
    [[{ data: { a: [{ 'equals-ignore-case': 1 }] } }], 'filter pattern at filterPatterns[0].data.a[0]: "equals-ignore-case" expects a string'],
    [[{ data: { a: [{ wildcard: 1 }] } }], 'filter pattern at filterPatterns[0].data.a[0]: "wildcard" expects a string'],
    [[{ data: { a: [{ numeric: '>' }] } }], 'filter pattern at filterPatterns[0].data.a[0].numeric: "numeric" expects [op, number] or [op, number, op, number]'],
    [[{ data: { a: [{ numeric: [] }] } }], 'filter pattern at filterPatterns[0].data.a[0].numeric: "numeric" expects [op, number] or [op, number, op, number]'],
    [[{ data: { a: [{ numeric: ['>', 1, '<'] }] } }], 'filter pattern at filterPatterns[0].data.a[0].numeric: "numeric" expects [op, number] or [op, number, op, number]'],
    [[{ data: { a: [{ numeric: ['>', '1'] }] } }], 'filter pattern at filterPatterns[0].data.a[0].numeric: "numeric" bound must be a number, got "1"'],
    [[{ data: { a: [{ numeric: ['>', 1, '!=', 2] }] } }], 'filter pattern at filterPatterns[0].data.a[0].numeric: unknown numeric operator "!="'],
    [[{ data: { a: [{ 'anything-but': ['x', true] }] } }], 'filter pattern at filterPatterns[0].data.a[0].anything-but[1]: expects strings or numbers'],
    [[{ data: { a: [{ 'anything-but': true }] } }], 'filter pattern at filterPatterns[0].data.a[0]: "anything-but" expects a value, a list or a prefix/suffix/equals-ignore-case/wildcard object'],
    [[{ data: { a: [{ 'anything-but': { exists: true } }] } }], 'filter pattern at filterPatterns[0].data.a[0].anything-but: "exists" must be used on its own in a rule list'],
    [[{ data: { a: [{ exists: true, prefix: 'x' }] } }], 'filter pattern at filterPatterns[0].data.a[0]: "exists" expects true or false'],
    [[{ data: { a: [{ exists: 1 }] } }], 'filter pattern at filterPatterns[0].data.a[0]: "exists" expects true or false'],
    [[{ data: { $or: [{ a: ['x'] }] } }], 'filter pattern at filterPatterns[0].data.$or: "$or" expects a list of at least two patterns'],
    [[{ data: { $or: { a: ['x'] } } }], 'filter pattern at filterPatterns[0].data.$or: "$or" expects a list of at least two patterns'],
    [[{ data: { $or: [{ a: ['x'] }, ['y']] } }], 'filter pattern at filterPatterns[0].data.$or[1]: expects a pattern object'],
    [[{ data: { $or: [{ a: ['x'] }, { b: 'y' }] } }], 'filter pattern at filterPatterns[0].data.$or[1].b: a field\'s rule must be a list or a nested pattern object, got "y"'],
  ])('%j', (patterns, message) => {
    rejects(patterns, message);
  });

  it('the data predicate names its own label', () => {
    expect(() => compileDataPredicate([{ data: { a: [] } }], 'runtimeFilter')).toThrow('filter pattern at runtimeFilter[0].data.a: a rule list must not be empty');
  });
});
