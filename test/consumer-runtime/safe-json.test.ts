/**
 * consumers/runtime/safe-json.ts: the checks every record's parsed JSON goes through before a schema
 * sees it. inspectJson rejects nesting deeper than maxDepth (depth 1 = the top-level object or array)
 * and the keys that turn into prototype pollution on merge; describeJsonError turns a JSON.parse
 * failure into a reason that never quotes the payload (reasons reach logs and the quarantine).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_JSON_DEPTH, describeJsonError, inspectJson, type JsonProblem } from '../../consumers/runtime/safe-json';

/** inspectJson on JSON text, with fresh work arrays (the runtime reuses one pair per invocation). */
function inspect(text: string, maxDepth: number): JsonProblem | undefined {
  return inspectJson(JSON.parse(text), maxDepth, [], []);
}

/** `levels` arrays nested in each other: "[[[]]]" is 3 levels. */
const arrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** `levels` objects nested in each other: '{"a":{"a":{}}}' is 3 levels. */
const objects = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

const tooDeep = (maxDepth: number): JsonProblem => ({ kind: 'too-deep', message: `JSON nesting is deeper than ${maxDepth} levels` });
const forbidden = (key: string): JsonProblem => ({
  kind: 'forbidden-key',
  message: `JSON contains the forbidden key "${key}" (prototype pollution guard)`,
});

/** The error JSON.parse (V8) throws for `text`. */
function parseError(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

describe('inspectJson: nesting depth', () => {
  it('the default limit is 32 levels', () => {
    expect(DEFAULT_MAX_JSON_DEPTH).toBe(32);
    expect(inspect(arrays(32), DEFAULT_MAX_JSON_DEPTH)).toBeUndefined();
    expect(inspect(arrays(33), DEFAULT_MAX_JSON_DEPTH)).toEqual(tooDeep(32));
  });

  it('exactly maxDepth levels pass, maxDepth + 1 fail (the top-level value is level 1): arrays', () => {
    expect(inspect(arrays(1), 1)).toBeUndefined();
    expect(inspect(arrays(2), 1)).toEqual(tooDeep(1));
    expect(inspect(arrays(3), 3)).toBeUndefined();
    expect(inspect(arrays(4), 3)).toEqual(tooDeep(3));
  });

  it('the same boundary for objects', () => {
    expect(inspect(objects(1), 1)).toBeUndefined();
    expect(inspect(objects(2), 1)).toEqual(tooDeep(1));
    expect(inspect(objects(3), 3)).toBeUndefined();
    expect(inspect(objects(4), 3)).toEqual(tooDeep(3));
  });

  it('the same boundary for objects and arrays mixed (each counts one level)', () => {
    expect(inspect('{"a":[{"b":[]}]}', 4)).toBeUndefined();
    expect(inspect('{"a":[{"b":[{}]}]}', 4)).toEqual(tooDeep(4));
    expect(inspect('[{"a":[{}]}]', 4)).toBeUndefined();
    expect(inspect('[{"a":[{"b":[]}]}]', 4)).toEqual(tooDeep(4));
  });

  it('a maxDepth of 0 rejects any object or array, even an empty one', () => {
    expect(inspect('{}', 0)).toEqual(tooDeep(0));
    expect(inspect('[]', 0)).toEqual(tooDeep(0));
  });

  it('scalars inside the deepest level are not a level of their own (numbers, strings, booleans, null)', () => {
    expect(inspect('[1, "x", true, false, null]', 1)).toBeUndefined();
    expect(inspect('{"n":1,"s":"x","t":true,"f":false,"z":null}', 1)).toBeUndefined();
    expect(inspect('{"a":[1,null,"x"],"b":{"c":null,"d":2}}', 2)).toBeUndefined();
  });

  it('a too-deep branch is found after shallow siblings, in objects and in arrays', () => {
    expect(inspect('{"a":{},"b":[],"c":1,"d":{"e":{"f":{}}}}', 3)).toEqual(tooDeep(3));
    expect(inspect('{"d":{"e":{"f":{}}},"a":{},"b":[],"c":1}', 3)).toEqual(tooDeep(3));
    expect(inspect('[[], {}, 1, null, [[[]]]]', 3)).toEqual(tooDeep(3));
    expect(inspect('[[[[]]], [], {}, 1, null]', 3)).toEqual(tooDeep(3));
    // Every branch is walked: all siblings at the limit pass.
    expect(inspect('[[[]], [[]], {"a":{}}, [{}]]', 3)).toBeUndefined();
  });

  it('primitives and null have nothing to inspect: undefined, even with a limit of 0', () => {
    for (const value of [null, 0, 1, '', 'text', true, false]) {
      expect(inspectJson(value, 0, [], [])).toBeUndefined();
    }
  });
});

describe('inspectJson: forbidden keys (prototype pollution guard)', () => {
  it('"__proto__" as JSON.parse defines it (an own property, not the prototype)', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true}}') as object;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(inspectJson(value, 32, [], [])).toEqual(forbidden('__proto__'));
  });

  it.each(['__proto__', 'constructor', 'prototype'])('"%s" is rejected at the top, deep down, and inside arrays', (key) => {
    expect(inspect(`{"${key}":1}`, 32)).toEqual(forbidden(key));
    expect(inspect(`{"a":{"b":{"${key}":null}}}`, 32)).toEqual(forbidden(key));
    expect(inspect(`[1,[{"${key}":{}}]]`, 32)).toEqual(forbidden(key));
    expect(inspect(`{"list":[{},{"ok":1},{"${key}":"x"}]}`, 32)).toEqual(forbidden(key));
  });

  it('a forbidden key is found after harmless siblings, whatever their order', () => {
    expect(inspect('{"a":{},"b":[1],"c":"x","d":{"constructor":1}}', 32)).toEqual(forbidden('constructor'));
    expect(inspect('{"d":{"prototype":1},"a":{},"b":[1],"c":"x"}', 32)).toEqual(forbidden('prototype'));
    expect(inspect('[{"prototype":1},{},[]]', 32)).toEqual(forbidden('prototype'));
  });

  it('only the key names count: similar keys and forbidden words as values pass', () => {
    expect(inspect('{"proto":1,"_proto_":2,"Constructor":3,"prototypes":4,"constructorId":5,"":6}', 32)).toBeUndefined();
    expect(inspect('{"type":"constructor","tags":["__proto__","prototype"]}', 32)).toBeUndefined();
  });

  it('nesting is checked before keys: a forbidden key beyond the limit is reported as too deep', () => {
    expect(inspect('{"a":{"b":{"constructor":1}}}', 2)).toEqual(tooDeep(2));
    expect(inspect('{"a":{"b":{"constructor":1}}}', 3)).toEqual(forbidden('constructor'));
  });
});

describe('inspectJson: the work arrays', () => {
  it('are reset before use: entries left by an earlier call are not inspected', () => {
    const stack: unknown[] = [{ constructor: 1 }, [[[]]]];
    const depths: number[] = [99, 99];
    expect(inspectJson({ a: [] }, 2, stack, depths)).toBeUndefined();
    expect(stack).toEqual([]);
    expect(depths).toEqual([]);
  });

  it('are reused across calls, each call answering for its own value only', () => {
    const stack: unknown[] = [];
    const depths: number[] = [];
    // The problem returns early, leaving work in the arrays...
    expect(inspectJson(JSON.parse('[[[[[]]]],{"prototype":1}]'), 3, stack, depths)).toEqual(forbidden('prototype'));
    expect(stack.length).toBeGreaterThan(0);
    // ...which the next call does not inherit.
    expect(inspectJson(JSON.parse('[[],{}]'), 2, stack, depths)).toBeUndefined();
    expect(inspectJson(JSON.parse('[[[]]]'), 2, stack, depths)).toEqual(tooDeep(2));
  });

  it('are left untouched for a primitive (it returns before using them)', () => {
    const stack: unknown[] = [{}];
    const depths: number[] = [1];
    expect(inspectJson('text', 32, stack, depths)).toBeUndefined();
    expect(inspectJson(null, 32, stack, depths)).toBeUndefined();
    expect(stack).toEqual([{}]);
    expect(depths).toEqual([1]);
  });
});

describe('describeJsonError', () => {
  it('a RangeError (the parser ran out of stack) is "too deep", whatever the text', () => {
    expect(describeJsonError(new RangeError('Maximum call stack size exceeded'), '[[[[')).toEqual({
      kind: 'too-deep',
      message: 'JSON nesting is too deep to parse',
    });
    expect(describeJsonError(new RangeError('Maximum call stack size exceeded'), '')).toEqual({
      kind: 'too-deep',
      message: 'JSON nesting is too deep to parse',
    });
  });

  it('empty data says so (V8 would say "Unexpected end of JSON input")', () => {
    expect(describeJsonError(parseError(''), '')).toEqual({ kind: 'invalid-json', message: 'data is empty, expected a JSON object' });
  });

  // The parser's wording differs between Node versions (Node 20 and 22 here), so the rule is pinned on
  // messages written out, and real parser errors are checked against the rule whatever their wording.
  it.each([
    'Unexpected non-whitespace character after JSON at position 7',
    "Expected property name or '}' in JSON at position 1",
    'Unterminated string in JSON at position 4',
    'Unexpected end of JSON input',
  ])('a message without double quotes carries no payload: kept verbatim, prefixed (%s)', (message) => {
    expect(describeJsonError(new SyntaxError(message), '{"a":1}x')).toEqual({ kind: 'invalid-json', message: `data is not valid JSON: ${message}` });
  });

  it.each(['{"a":1}x', '{a:1}', '{"a":1 "b":2}', '"abc', '{"a', 'tru'])(
    'a real parser error (%s) is kept verbatim when it quotes nothing, and never passes a quote on',
    (text) => {
      const message = (parseError(text) as Error).message;
      const described = describeJsonError(parseError(text), text);
      expect(described.kind).toBe('invalid-json');
      expect(described.message).not.toContain('"');
      if (!message.includes('"')) expect(described.message).toBe(`data is not valid JSON: ${message}`);
    },
  );

  it.each(['hello', '{"secret": tru}', '{"key": "value", "token": abc123, "more": "text long enough for V8 to quote a slice of it"}'])(
    'a V8 message quoting the input never reaches the reason (%s)',
    (text) => {
      const error = parseError(text);
      expect((error as Error).message).toContain('"');
      expect(describeJsonError(error, text)).toEqual({ kind: 'invalid-json', message: 'data is not valid JSON' });
    },
  );

  it('a message quoting the input and naming a position keeps only the position (every digit of it)', () => {
    const error = new SyntaxError(`Unexpected token 's', "secret-value" is not valid JSON at position 1234`);
    expect(describeJsonError(error, '"secret-value" and more')).toEqual({
      kind: 'invalid-json',
      message: 'data is not valid JSON (syntax error at character 1234)',
    });
    expect(describeJsonError(new SyntaxError('"x" at position 0'), 'x')).toEqual({
      kind: 'invalid-json',
      message: 'data is not valid JSON (syntax error at character 0)',
    });
  });

  it('a message quoting the input whose "position" has no number is not a position', () => {
    expect(describeJsonError(new SyntaxError('"secret" at position x'), 'secret')).toEqual({ kind: 'invalid-json', message: 'data is not valid JSON' });
  });

  it('a thrown value that is not an Error is described by its string form, with the same payload rule', () => {
    expect(describeJsonError('parser exploded', 'x')).toEqual({ kind: 'invalid-json', message: 'data is not valid JSON: parser exploded' });
    expect(describeJsonError(42, 'x')).toEqual({ kind: 'invalid-json', message: 'data is not valid JSON: 42' });
    expect(describeJsonError(undefined, 'x')).toEqual({ kind: 'invalid-json', message: 'data is not valid JSON: undefined' });
    expect(describeJsonError({ message: 'not an Error' }, 'x')).toEqual({ kind: 'invalid-json', message: 'data is not valid JSON: [object Object]' });
    expect(describeJsonError('near "secret" at position 12', 'x')).toEqual({
      kind: 'invalid-json',
      message: 'data is not valid JSON (syntax error at character 12)',
    });
  });
});
