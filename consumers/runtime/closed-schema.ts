/**
 * Is a contract "closed"? A closed zod schema's output can only hold the keys it names and is
 * bounded in depth: a strict or stripping object of closed fields, arrays/tuples/unions of closed
 * schemas, primitives, enums, literals (checks such as refine do not change that). For an event
 * that validated against a closed schema, the forbidden-key / depth inspection cannot find anything
 * new, so the runtime skips it on the hot path (it still runs on every record that fails validation,
 * and on every record of an open contract: record/unknown/any/lazy/passthrough/transform...).
 */

interface ZodDefLike {
  readonly type?: string;
  readonly shape?: Record<string, unknown>;
  readonly catchall?: unknown;
  readonly element?: unknown;
  readonly items?: readonly unknown[];
  readonly rest?: unknown;
  readonly options?: readonly unknown[];
  readonly left?: unknown;
  readonly right?: unknown;
  readonly innerType?: unknown;
  readonly in?: unknown;
  readonly out?: unknown;
}

function defOf(schema: unknown): ZodDefLike | undefined {
  const zod = (schema as { _zod?: { def?: ZodDefLike } } | undefined)?._zod;
  return zod?.def;
}

const LEAVES = new Set([
  'string',
  'number',
  'int',
  'boolean',
  'bigint',
  'null',
  'undefined',
  'void',
  'never',
  'enum',
  'literal',
  'nan',
  'template_literal',
  'date',
]);

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** True when `schema` (zod v4) is closed; anything unrecognised counts as open (the safe answer). */
export function isClosedSchema(schema: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  const def = defOf(schema);
  const type = def?.type;
  if (def === undefined || type === undefined) return false;
  if (LEAVES.has(type)) return true;
  if (WRAPPERS.has(type)) return isClosedSchema(def.innerType, depth + 1);
  switch (type) {
    case 'object': {
      const catchall = def.catchall;
      if (catchall !== undefined && defOf(catchall)?.type !== 'never') return false;
      return Object.values(def.shape ?? {}).every((field) => isClosedSchema(field, depth + 1));
    }
    case 'array':
      return isClosedSchema(def.element, depth + 1);
    case 'tuple':
      return (def.items ?? []).every((item) => isClosedSchema(item, depth + 1)) && (def.rest == null || isClosedSchema(def.rest, depth + 1));
    case 'union':
      return (def.options ?? []).every((option) => isClosedSchema(option, depth + 1));
    case 'intersection':
      return isClosedSchema(def.left, depth + 1) && isClosedSchema(def.right, depth + 1);
    case 'pipe':
      return isClosedSchema(def.in, depth + 1) && isClosedSchema(def.out, depth + 1);
    default:
      return false;
  }
}
