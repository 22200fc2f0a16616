/**
 * Shared building blocks for event contracts. Every constraint carries a message a
 * human can act on, because these messages end up in quarantine records.
 */
import * as z from 'zod';
import { ISO_4217_CODES } from './iso4217';

/**
 * Error for a type check: "is required" when the field is absent, else `message`.
 * zod reports a missing field as a type mismatch against `undefined`.
 */
export function need(message: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : message);
}

/**
 * No leading or trailing whitespace (what `String.prototype.trim` removes). A pattern rather than a
 * refinement, so the exported JSON Schema carries the rule too; it accepts "" so that an empty
 * string reports only "must not be empty".
 */
const TRIMMED = /^(?:\S(?:[\s\S]*\S)?)?$/;

/** A trimmed, non-empty string with an upper bound (bounded so one event cannot exhaust memory). */
export const text = (max: number) =>
  z
    .string({ error: need('must be a string') })
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(TRIMMED, { error: 'must not start or end with whitespace' });

/** Order identifier: also the Kinesis partition key (<= 256 chars by AWS rule, we stay far below). */
export const orderId = z
  .string({ error: need('must be a string') })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$/, {
    error: 'must be 3-64 characters of letters, digits, "_" or "-", starting with a letter or digit',
  });

/** Amounts are integer minor units (cents): never floats, never negative. */
export const minorUnits = z
  .int({ error: need('must be an integer amount in minor units (e.g. cents)') })
  .min(0, { error: 'must not be negative' })
  .max(1_000_000_000_00, { error: 'must be at most 100000000000 minor units' });

export const currency = z.enum(ISO_4217_CODES, {
  error: need('must be an active ISO-4217 currency code in upper case, e.g. "EUR"'),
});

/** ISO 3166-1 alpha-2 country code (shape only; the list changes more often than contracts do). */
export const country = z
  .string({ error: need('must be a string') })
  .regex(/^[A-Z]{2}$/, { error: 'must be an ISO 3166-1 alpha-2 country code, e.g. "DE"' });

export const sku = z
  .string({ error: need('must be a string') })
  .regex(/^[A-Z0-9][A-Z0-9-]{2,31}$/, {
    error: 'must be 3-32 upper-case letters, digits or "-", starting with a letter or digit',
  });

/** A closed object (unknown fields rejected) whose "missing" / "not an object" errors read like the others. */
export function closedObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'invalid_type' ? (issue.input === undefined ? 'is required' : 'must be an object') : undefined,
  });
}
