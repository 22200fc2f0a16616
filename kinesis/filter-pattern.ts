/**
 * Lambda event filtering for Kinesis (pure). Pages "Control which events Lambda sends to your
 * function" (invocation-eventfiltering) and "Using event filtering with a Kinesis event source"
 * (with-kinesis-filtering):
 * - up to 5 filters, ORed: a record that matches any filter is sent, the others are dropped;
 * - "Kinesis event source mappings only support filtering on the data key"; the data must be valid
 *   JSON: non-JSON data never matches a filter on `data`;
 * - rules use the EventBridge event-pattern syntax: equals (string, number, null), empty string,
 *   `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (value, list, prefix,
 *   suffix, equals-ignore-case, wildcard), `numeric` comparisons, `exists`, `$or`; fields of a
 *   pattern are ANDed, values in a rule list are ORed, an array in the event matches when any
 *   element matches (EventBridge user guide, "Comparison operators for use in event patterns").
 * Patterns are compiled once, at construction; a pattern Lambda would reject fails with a clear error.
 * Shared by the local event source mapping, the ops CLI's redrive and the consumer runtime's
 * after-deaggregation filter, so all three read a pattern the same way.
 */

export class FilterPatternError extends Error {
  override readonly name = 'FilterPatternError';
}

type ValuePredicate = (value: unknown, present: boolean) => boolean;
type ObjectPredicate = (event: unknown) => boolean;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, message: string): never {
  throw new FilterPatternError(`filter pattern at ${path}: ${message}`);
}

function wildcardRegex(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

/** A string matcher for prefix/suffix/anything-but sub-rules: `"x"` or `{ "equals-ignore-case": "x" }`. */
function stringOperand(value: unknown, path: string): { text: string; ignoreCase: boolean } {
  if (typeof value === 'string') return { text: value, ignoreCase: false };
  if (isObject(value) && typeof value['equals-ignore-case'] === 'string' && Object.keys(value).length === 1) {
    return { text: value['equals-ignore-case'], ignoreCase: true };
  }
  return fail(path, 'expects a string or {"equals-ignore-case": string}');
}

function compileNumeric(spec: unknown, path: string): (n: number) => boolean {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0) fail(path, '"numeric" expects [op, number] or [op, number, op, number]');
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i];
    const bound = spec[i + 1];
    if (typeof bound !== 'number') fail(path, `"numeric" bound must be a number, got ${JSON.stringify(bound)}`);
    switch (op) {
      case '=': checks.push((n) => n === bound); break;
      case '<': checks.push((n) => n < bound); break;
      case '<=': checks.push((n) => n <= bound); break;
      case '>': checks.push((n) => n > bound); break;
      case '>=': checks.push((n) => n >= bound); break;
      default: fail(path, `unknown numeric operator ${JSON.stringify(op)}`);
    }
  }
  return (n) => checks.every((check) => check(n));
}

/** One element of a rule list, as a predicate on a single (non-array) value. */
function compileMatcher(rule: unknown, path: string): (value: unknown) => boolean {
  if (rule === null || typeof rule === 'string' || typeof rule === 'number' || typeof rule === 'boolean') {
    return (value) => value === rule;
  }
  if (!isObject(rule)) fail(path, `unsupported rule ${JSON.stringify(rule)}`);
  const keys = Object.keys(rule);
  if (keys.length !== 1) fail(path, `a rule object has exactly one operator, got ${JSON.stringify(keys)}`);
  const op = keys[0] as string;
  const arg = rule[op];
  switch (op) {
    case 'prefix': {
      const { text, ignoreCase } = stringOperand(arg, `${path}.prefix`);
      const t = ignoreCase ? text.toLowerCase() : text;
      return (v) => typeof v === 'string' && (ignoreCase ? v.toLowerCase() : v).startsWith(t);
    }
    case 'suffix': {
      const { text, ignoreCase } = stringOperand(arg, `${path}.suffix`);
      const t = ignoreCase ? text.toLowerCase() : text;
      return (v) => typeof v === 'string' && (ignoreCase ? v.toLowerCase() : v).endsWith(t);
    }
    case 'equals-ignore-case': {
      if (typeof arg !== 'string') fail(path, '"equals-ignore-case" expects a string');
      const t = arg.toLowerCase();
      return (v) => typeof v === 'string' && v.toLowerCase() === t;
    }
    case 'wildcard': {
      if (typeof arg !== 'string') fail(path, '"wildcard" expects a string');
      const regex = wildcardRegex(arg);
      return (v) => typeof v === 'string' && regex.test(v);
    }
    case 'numeric': {
      const check = compileNumeric(arg, `${path}.numeric`);
      return (v) => typeof v === 'number' && check(v);
    }
    case 'anything-but': {
      let inner: (value: unknown) => boolean;
      if (Array.isArray(arg)) {
        const values = arg.map((item, i) => {
          if (typeof item !== 'string' && typeof item !== 'number') fail(`${path}.anything-but[${i}]`, 'expects strings or numbers');
          return item;
        });
        inner = (v) => values.includes(v as string | number);
      } else if (isObject(arg)) {
        inner = compileMatcher(arg, `${path}.anything-but`);
      } else if (typeof arg === 'string' || typeof arg === 'number') {
        inner = (v) => v === arg;
      } else {
        return fail(path, '"anything-but" expects a value, a list or a prefix/suffix/equals-ignore-case/wildcard object');
      }
      return (v) => v !== undefined && !inner(v);
    }
    case 'exists':
      // handled by compileRuleList (it needs presence, not a value)
      return fail(path, '"exists" must be used on its own in a rule list');
    default:
      return fail(path, `unsupported operator ${JSON.stringify(op)}`);
  }
}

function compileRuleList(rules: unknown[], path: string): ValuePredicate {
  if (rules.length === 0) fail(path, 'a rule list must not be empty');
  const matchers: Array<ValuePredicate> = rules.map((rule, i) => {
    if (isObject(rule) && 'exists' in rule) {
      if (typeof rule['exists'] !== 'boolean' || Object.keys(rule).length !== 1) fail(`${path}[${i}]`, '"exists" expects true or false');
      const wanted = rule['exists'];
      return (_value, present) => present === wanted;
    }
    const single = compileMatcher(rule, `${path}[${i}]`);
    return (value, present) => {
      if (!present) return false;
      // An array in the event matches when any element matches (EventBridge).
      return Array.isArray(value) ? value.some((element) => single(element)) : single(value);
    };
  });
  return (value, present) => matchers.some((matcher) => matcher(value, present));
}

function compileObject(pattern: Record<string, unknown>, path: string): ObjectPredicate {
  const checks: ObjectPredicate[] = [];
  for (const [key, rule] of Object.entries(pattern)) {
    const here = `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(rule) || rule.length < 2) fail(here, '"$or" expects a list of at least two patterns');
      const alternatives = rule.map((alternative, i) => {
        if (!isObject(alternative)) fail(`${here}[${i}]`, 'expects a pattern object');
        return compileObject(alternative, `${here}[${i}]`);
      });
      checks.push((event) => alternatives.some((alternative) => alternative(event)));
    } else if (Array.isArray(rule)) {
      const predicate = compileRuleList(rule, here);
      checks.push((event) => {
        const present = isObject(event) && Object.prototype.hasOwnProperty.call(event, key);
        return predicate(present ? (event as Record<string, unknown>)[key] : undefined, present);
      });
    } else if (isObject(rule)) {
      const nested = compileObject(rule, here);
      checks.push((event) => isObject(event) && isObject(event[key]) && nested(event[key]));
    } else {
      fail(here, `a field's rule must be a list or a nested pattern object, got ${JSON.stringify(rule)}`);
    }
  }
  return (event) => checks.every((check) => check(event));
}

/** A compiled FilterCriteria: `matches(data)` for one record's raw data bytes. */
export interface RecordFilter {
  matches(data: Uint8Array): boolean;
}

/**
 * Compile filter patterns (objects, AWS syntax) into one predicate over a record's data already
 * parsed as JSON: true when any pattern matches. Used by the local event source mapping (on the raw
 * bytes, below) and by the consumer runtime after KPL deaggregation (consumers/runtime/record-filter.ts).
 */
export function compileDataPredicate(patterns: readonly Record<string, unknown>[], label = 'filterPatterns'): (data: unknown) => boolean {
  const compiled = patterns.map((pattern, index) => {
    const path = `${label}[${index}]`;
    for (const key of Object.keys(pattern)) {
      // with-kinesis-filtering: "Kinesis event source mappings only support filtering on the data key."
      if (key !== 'data') fail(path, `Kinesis event source mappings only support filtering on the "data" key, got "${key}"`);
    }
    const rule = pattern['data'];
    if (isObject(rule)) return compileObject(rule, `${path}.data`);
    if (Array.isArray(rule)) {
      const predicate = compileRuleList(rule, `${path}.data`);
      return (data: unknown) => predicate(data, true);
    }
    return fail(path, '"data" must be a pattern object or a rule list');
  });
  if (compiled.length === 1) return compiled[0]!;
  return (data) => compiled.some((predicate) => predicate(data));
}

/** Compile the mapping's filter patterns (objects, AWS syntax). No patterns = everything matches. */
export function compileFilters(patterns: readonly Record<string, unknown>[]): RecordFilter | undefined {
  if (patterns.length === 0) return undefined;
  const predicate = compileDataPredicate(patterns);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    matches(data: Uint8Array): boolean {
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoder.decode(data));
      } catch {
        // with-kinesis-filtering / invocation-eventfiltering: non-JSON data with a data filter: "Lambda drops the record".
        return false;
      }
      return predicate(parsed);
    },
  };
}
