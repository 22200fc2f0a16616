/** Typed errors of the event contracts. Each carries what a human needs to fix the input. */
import type { z } from 'zod';

export interface ValidationIssue {
  /** Dotted path into the event, e.g. `data.lines.0.quantity`; empty for the root. */
  readonly path: string;
  readonly message: string;
}

export type ContractErrorKind = 'envelope' | 'unknown-type' | 'unknown-version' | 'schema';

export abstract class ContractError extends Error {
  abstract readonly kind: ContractErrorKind;
  readonly issues: readonly ValidationIssue[];
  protected constructor(message: string, issues: readonly ValidationIssue[] = []) {
    super(message);
    this.name = new.target.name;
    this.issues = issues;
  }
}

/** No contract is registered for this `type` at all. */
export class UnknownEventTypeError extends ContractError {
  readonly kind = 'unknown-type' as const;
  constructor(
    readonly type: string,
    readonly knownTypes: readonly string[],
  ) {
    super(`unknown event type "${type}"; known types: ${knownTypes.join(', ')}`);
  }
}

/** The `type` is known but not at this `version`. */
export class UnknownEventVersionError extends ContractError {
  readonly kind = 'unknown-version' as const;
  constructor(
    readonly type: string,
    readonly version: number,
    readonly knownVersions: readonly number[],
  ) {
    super(`unknown version ${version} of event type "${type}"; known versions: ${knownVersions.join(', ')}`);
  }
}

/** The input is not a valid envelope (before any event schema can be chosen), or violates its event schema. */
export class EventValidationError extends ContractError {
  constructor(
    readonly kind: 'envelope' | 'schema',
    subject: string,
    issues: readonly ValidationIssue[],
  ) {
    super(`${subject}: ${issues.map(formatIssue).join('; ')}`, issues);
  }
}

export function formatIssue(issue: ValidationIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export function toValidationIssues(issues: readonly z.core.$ZodIssue[]): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...issue.path, key].join('.'), message: 'is not a known field' });
    } else {
      out.push({ path: issue.path.map(String).join('.'), message: issue.message });
    }
  }
  return out;
}
