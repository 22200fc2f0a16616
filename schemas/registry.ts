/**
 * The schema registry: `(type, version)` -> contract. Lookups are two Map reads; every zod
 * schema is built once when this module loads, never per record.
 */
import { envelopeSchema } from './envelope';
import type { EventDefinition, EventOf } from './define-event';
import {
  EventValidationError,
  UnknownEventTypeError,
  UnknownEventVersionError,
  toValidationIssues,
  type ContractError,
} from './errors';
import type { z } from 'zod';

export type ParseResult<E> = { ok: true; event: E; definition: EventDefinition } | { ok: false; error: ContractError };

export class EventRegistry<E extends EventOf<string, number, unknown>> {
  private readonly byType = new Map<string, Map<number, EventDefinition>>();

  constructor(definitions: readonly EventDefinition[]) {
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
    const result = (def as EventDefinition).schema.safeParse(input);
    if (result.success) return { ok: true, event: result.data as E, definition: def as EventDefinition };
    return {
      ok: false,
      error: new EventValidationError('schema', `invalid ${type} v${version}`, toValidationIssues(result.error.issues)),
    };
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

function envelopeFailure(error: z.ZodError): EventValidationError {
  return new EventValidationError('envelope', 'invalid event envelope', toValidationIssues(error.issues));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
