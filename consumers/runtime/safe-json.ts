/**
 * JSON parsing for untrusted record data. JSON.parse itself is safe (it defines `__proto__` as an
 * own property instead of setting the prototype), but such keys turn into prototype pollution as
 * soon as handler code spreads or merges the object, and deep nesting turns into stack overflows in
 * recursive code. Neither reaches a handler. decode.ts walks the value here, and quarantines it with
 * a readable reason, when validation fails (the more specific reason) and when the contract is open. A closed
 * contract (closed-schema.ts: strict or stripping objects of closed fields) skips the walk: a key it
 * rejects fails validation, and a key it strips, with whatever nesting is under it, never reaches
 * the event, so such a record is accepted without it (pinned in decode-edges.test.ts).
 */

/** Keys that are never legitimate in an event and dangerous in merges. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Default maximum nesting depth of objects/arrays in an event (the contracts need fewer than 6). */
export const DEFAULT_MAX_JSON_DEPTH = 32;

export type JsonProblem =
  | { kind: 'invalid-json'; message: string }
  | { kind: 'forbidden-key'; message: string }
  | { kind: 'too-deep'; message: string };

/**
 * Walks a parsed JSON value iteratively (no recursion, so depth cannot overflow the stack) and
 * returns the first problem, or undefined. Cost: one pass over the objects, no allocation but the stack.
 */
export function inspectJson(value: unknown, maxDepth: number, stack: unknown[], depths: number[]): JsonProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  stack.length = 0;
  depths.length = 0;
  stack.push(value);
  depths.push(1);
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown> | unknown[];
    const depth = depths.pop()!;
    if (depth > maxDepth) {
      return { kind: 'too-deep', message: `JSON nesting is deeper than ${maxDepth} levels` };
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child = node[i];
        if (typeof child === 'object' && child !== null) {
          stack.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        if (FORBIDDEN_KEYS.has(key)) {
          return { kind: 'forbidden-key', message: `JSON contains the forbidden key "${key}" (prototype pollution guard)` };
        }
        const child = node[key];
        if (typeof child === 'object' && child !== null) {
          stack.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return undefined;
}

/** Readable reason for a JSON.parse failure, without quoting the payload (reasons reach logs). */
export function describeJsonError(error: unknown, text: string): JsonProblem {
  if (error instanceof RangeError) {
    return { kind: 'too-deep', message: 'JSON nesting is too deep to parse' };
  }
  if (text.length === 0) return { kind: 'invalid-json', message: 'data is empty, expected a JSON object' };
  const message = error instanceof Error ? error.message : String(error);
  // V8 quotes a slice of the input in some messages ("Unexpected token 'h', "hello" is not valid JSON"):
  // keep the parser's words only when they carry no payload.
  if (!message.includes('"')) return { kind: 'invalid-json', message: `data is not valid JSON: ${message}` };
  const position = /position (\d+)/.exec(message);
  return {
    kind: 'invalid-json',
    message: position ? `data is not valid JSON (syntax error at character ${position[1]})` : 'data is not valid JSON',
  };
}
