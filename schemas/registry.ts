/**
 * The schema registry: `(type, version)` -> contract. Lookups are two Map reads; every zod
 * schema is built once when this module loads, never per record.
 *
 * Validation runs each contract through zod's own compiler (`z.compile`, zod >= 4.6): a parser
 * generated once per contract (lazily, on its first event) with the contract's exact semantics — the
 * same checks, refinements and defaults, the same freshly built output. On any input the generated
 * parser does not accept, zod's regular parser runs instead, so error messages are unchanged. Pass
 * `{ compiled: false }` to validate with the regular parser only (for comparison).
 * Contract authors: zod cannot compile a refinement's `when` option (it then runs that object with the
 * regular parser: correct, but slow); guard inside the refinement instead (see order-placed.v1.ts).
 * test/schemas/compiled-validator.test.ts proves compiled and regular validation agree.
 */
import * as z from 'zod';
import { envelopeSchema } from './envelope';
import type { EventDefinition, EventOf } from './define-event';
import {
  EventValidationError,
  UnknownEventTypeError,
  UnknownEventVersionError,
  toValidationIssues,
  type ContractError,
} from './errors';

export type ParseResult<E> = { ok: true; event: E; definition: EventDefinition } | { ok: false; error: ContractError };

export interface EventRegistryOptions {
  /**
   * Validate with zod's compiled parser per contract (default true), falling back to zod's regular
   * parser for anything it does not accept. `false`: the regular parser only.
   */
  readonly compiled?: boolean;
}

/** How a contract is validated: its schema as compiled by `z.compile`, or as written when compilation was refused. */
export interface ContractValidator {
  readonly schema: z.ZodType;
  /** False when compilation is disabled or zod refused this contract (then `reason` says why). */
  readonly compiled: boolean;
  readonly reason?: string;
}

export class EventRegistry<E extends EventOf<string, number, unknown>> {
  private readonly byType = new Map<string, Map<number, EventDefinition>>();
  private readonly validators = new Map<EventDefinition, ContractValidator>();
  private readonly compile: boolean;

  constructor(definitions: readonly EventDefinition[], options: EventRegistryOptions = {}) {
    this.compile = options.compiled ?? true;
    for (const def of definitions) {
      let versions = this.byType.get(def.type);
      if (!versions) this.byType.set(def.type, (versions = new Map()));
      if (versions.has(def.version)) throw new Error(`duplicate contract ${def.type} v${def.version}`);
      versions.set(def.version, def);
    }
  }

  get definitions(): EventDefinition[] {
    return [...this.byType.values()].flatMap((versions) => [...versions.values()]);
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  /** The contract for `(type, version)`; throws a typed error naming what is known instead. */
  lookup(type: string, version: number): EventDefinition {
    const versions = this.byType.get(type);
    if (!versions) throw new UnknownEventTypeError(type, this.types);
    const def = versions.get(version);
    if (!def) throw new UnknownEventVersionError(type, version, [...versions.keys()]);
    return def;
  }

  /**
   * Validate an already JSON-parsed value: envelope first, then the event's own schema.
   * On the hot path (a well-formed envelope) this is exactly one zod parse: the event schema
   * includes the envelope fields, so the envelope-only schema runs just to explain failures.
   */
  safeParse(input: unknown): ParseResult<E> {
    const type = isObject(input) ? input['type'] : undefined;
    const version = isObject(input) ? input['version'] : undefined;
    if (typeof type !== 'string' || typeof version !== 'number') return { ok: false, error: this.envelopeError(input) };
    const def = this.byType.get(type)?.get(version);
    if (!def) {
      // A malformed envelope is reported as such even when its type is also unknown.
      const envelope = envelopeSchema.safeParse(input);
      if (!envelope.success) return { ok: false, error: envelopeFailure(envelope.error) };
      try {
        this.lookup(type, version);
      } catch (error) {
        return { ok: false, error: error as ContractError };
      }
    }
    const result = this.validator(def as EventDefinition).schema.safeParse(input);
    if (result.success) return { ok: true, event: result.data as E, definition: def as EventDefinition };
    return {
      ok: false,
      error: new EventValidationError('schema', `invalid ${type} v${version}`, toValidationIssues(result.error.issues)),
    };
  }

  /**
   * The validator of a contract, built on first use (once per registry and contract, never per
   * record). `schema.safeParse` of it is exactly `definition.schema.safeParse`, only faster.
   */
  validator(definition: EventDefinition): ContractValidator {
    let validator = this.validators.get(definition);
    if (validator === undefined) {
      validator = this.compile ? compileContract(definition) : { schema: definition.schema, compiled: false, reason: 'disabled' };
      this.validators.set(definition, validator);
    }
    return validator;
  }

  /** Like `safeParse`, but throws the typed error. */
  parse(input: unknown): E {
    const result = this.safeParse(input);
    if (!result.ok) throw result.error;
    return result.event;
  }

  private envelopeError(input: unknown): ContractError {
    const envelope = envelopeSchema.safeParse(input);
    if (!envelope.success) return envelopeFailure(envelope.error);
    // Unreachable in practice: a valid envelope has a string type and numeric version.
    return new EventValidationError('envelope', 'invalid event envelope', [{ path: '', message: 'type/version missing' }]);
  }
}

/**
 * `strict: true` makes zod report a refusal (e.g. an async refinement) instead of silently handing
 * the schema back; the contract then keeps zod's regular parser, which is always correct.
 */
function compileContract(definition: EventDefinition): ContractValidator {
  try {
    return { schema: z.compile(definition.schema, { strict: true }), compiled: true };
  } catch (error) {
    return { schema: definition.schema, compiled: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function envelopeFailure(error: z.ZodError): EventValidationError {
  return new EventValidationError('envelope', 'invalid event envelope', toValidationIssues(error.issues));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
