/**
 * JSON Schema for every registered event contract, via zod v4's built-in `z.toJSONSchema`, so teams
 * producing from other languages validate against the same contract. Pure: computes file names and
 * contents; `export-json-schema.ts` writes them and the staleness test compares them with the
 * committed files.
 */
import * as z from 'zod';
import type { EventDefinition } from './define-event';

/** Where the generated files live, relative to the project root. */
export const JSON_SCHEMA_DIR = 'schemas/json';
export const JSON_SCHEMA_INDEX_FILE = 'index.json';
export const JSON_SCHEMA_EXPORT_COMMAND = 'npm run schemas:export';

const GENERATED_NOTE = `Generated from the TypeScript contract in schemas/ by \`${JSON_SCHEMA_EXPORT_COMMAND}\`; do not edit by hand.`;

export function jsonSchemaFileName(def: Pick<EventDefinition, 'type' | 'version'>): string {
  return `${def.type}.v${def.version}.schema.json`;
}

export function jsonSchemaId(def: Pick<EventDefinition, 'type' | 'version'>): string {
  return `urn:kinesis-pipeline:event:${def.type}:v${def.version}`;
}

/**
 * The JSON Schema (draft 2020-12) of one event. It describes what a producer may send (zod's
 * `input` side), so `hops` is optional with its default of 0.
 *
 * zod drops refinements (`.refine`/`.superRefine`) silently: JSON Schema has no equivalent for
 * rules such as "total = sum of the lines". Every refined schema must therefore carry a
 * `.meta({ description })` explaining its rule; export fails otherwise, so a new contract cannot
 * lose a rule from its JSON Schema without a word.
 */
export function eventJsonSchema(def: EventDefinition): Record<string, unknown> {
  const refined: (string | number)[][] = [];
  const generated = z.toJSONSchema(def.schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'throw',
    override: ({ zodSchema, path }) => {
      if (hasRefinement(zodSchema)) refined.push(path);
    },
  }) as Record<string, unknown>;
  // Checked on the final output: the override also sees intermediate clones (before `.meta()`).
  const undocumented = refined
    .filter((path) => typeof at(generated, path)?.['description'] !== 'string')
    .map((path) => (path.length === 0 ? '(root)' : path.join('.')));
  if (undocumented.length > 0) {
    throw new Error(
      `${def.type} v${def.version}: refinements at ${undocumented.join(', ')} cannot be expressed in JSON Schema; ` +
        'describe each rule with .meta({ description }) on the refined schema',
    );
  }
  const { $schema, title, description, ...rest } = generated;
  const ruleSites = [...new Set(refined.map(eventPath))];
  const ruleNote =
    ruleSites.length === 0
      ? ''
      : ` Cross-field rules are enforced by the TypeScript contract in schemas/; see the description of ${ruleSites.join(', ')}.`;
  // Fixed key order so the files diff cleanly.
  return {
    $schema,
    $id: jsonSchemaId(def),
    $comment: GENERATED_NOTE,
    title,
    description: `${String(description)}${ruleNote}`,
    ...rest,
  };
}

/**
 * Every file of `schemas/json/` (name -> exact content): one schema per registered `(type, version)`
 * plus `index.json`. Stable: sorted, two-space indented, trailing newline.
 */
export function renderJsonSchemaFiles(definitions: readonly EventDefinition[]): Map<string, string> {
  const sorted = [...definitions].sort((a, b) => a.type.localeCompare(b.type, 'en') || a.version - b.version);
  const files = new Map<string, string>();
  for (const def of sorted) files.set(jsonSchemaFileName(def), toJsonText(eventJsonSchema(def)));
  const index = {
    $comment: GENERATED_NOTE,
    events: sorted.map((def) => ({
      type: def.type,
      version: def.version,
      $id: jsonSchemaId(def),
      file: jsonSchemaFileName(def),
      description: def.description,
    })),
  };
  files.set(JSON_SCHEMA_INDEX_FILE, toJsonText(index));
  return files;
}

function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** JSON Schema location -> event field path: ['properties','data'] -> 'data', items -> '[]'. */
function eventPath(path: readonly (string | number)[]): string {
  const parts = path.filter((key) => key !== 'properties').map((key) => (key === 'items' ? '[]' : String(key)));
  return parts.length === 0 ? '(the event)' : parts.join('.');
}

function at(schema: Record<string, unknown>, path: readonly (string | number)[]): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const key of path) node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[key] : undefined;
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>) : undefined;
}

/** A `.refine`/`.superRefine` shows up as a check of kind "custom" on the schema. */
function hasRefinement(schema: z.core.$ZodType): boolean {
  const checks = schema._zod.def.checks ?? [];
  return checks.some((check) => check._zod.def.check === 'custom');
}
