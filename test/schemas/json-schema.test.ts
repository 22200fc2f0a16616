import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFixtures } from '../../schemas/fixtures';
import { EVENT_DEFINITIONS, defineEvent, registry, type OrderEvent } from '../../schemas/index';
import {
  JSON_SCHEMA_DIR,
  JSON_SCHEMA_INDEX_FILE,
  eventJsonSchema,
  jsonSchemaFileName,
  renderJsonSchemaFiles,
} from '../../schemas/json-schema';
import { withField, withoutField } from './edit';

const dir = join(import.meta.dirname, '..', '..', JSON_SCHEMA_DIR);
const STALE = 'schemas/json/ is stale: run `npm run schemas:export` and commit the result';

function committedFiles(): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
  );
}

/** A real JSON Schema validator (not zod), as a producer in another language would use. */
function compileCommitted() {
  const ajv = new Ajv2020({ strictSchema: true, strictTypes: true, allErrors: true, validateFormats: false });
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const def of registry.definitions) {
    const schema = JSON.parse(readFileSync(join(dir, jsonSchemaFileName(def)), 'utf8')) as object;
    validators.set(`${def.type}@${def.version}`, ajv.compile(schema));
  }
  return (event: unknown): boolean => {
    const { type, version } = event as { type: string; version: number };
    const validate = validators.get(`${type}@${version}`);
    if (!validate) throw new Error(`no schema for ${type} v${version}`);
    return validate(event) as boolean;
  };
}

describe('committed JSON Schema (schemas/json/)', () => {
  it('is up to date with the zod contracts', () => {
    const expected = renderJsonSchemaFiles(registry.definitions);
    const committed = committedFiles();
    expect([...committed.keys()].sort(), STALE).toEqual([...expected.keys()].sort());
    for (const [name, content] of expected) expect(committed.get(name), `${STALE} (${name} differs)`).toBe(content);
  });

  it('the staleness check notices a changed contract', () => {
    const changed = EVENT_DEFINITIONS.map((def) =>
      def.type === 'order.shipped'
        ? defineEvent({ type: def.type, version: def.version, description: 'changed', data: z.strictObject({ orderId: z.string() }) })
        : def,
    );
    const rendered = renderJsonSchemaFiles(changed);
    const committed = committedFiles();
    expect(rendered.get('order.shipped.v1.schema.json')).not.toBe(committed.get('order.shipped.v1.schema.json'));
    expect(rendered.get('order.paid.v1.schema.json')).toBe(committed.get('order.paid.v1.schema.json'));
  });

  it.each(registry.definitions.map((d) => [jsonSchemaFileName(d), d] as const))('%s: draft 2020-12, $id, title, stable text', (name, def) => {
    const text = committedFiles().get(name)!;
    expect(text.endsWith('}\n')).toBe(true);
    const schema = JSON.parse(text) as Record<string, unknown>;
    expect(`${JSON.stringify(schema, null, 2)}\n`).toBe(text);
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['$id']).toBe(`urn:kinesis-pipeline:event:${def.type}:v${def.version}`);
    expect(schema['title']).toBe(`${def.type} v${def.version}`);
    expect(schema['description']).toContain(def.description);
    expect(schema['additionalProperties']).toBe(false);
    // What producers send: hops may be omitted (defaults to 0).
    expect(schema['required']).toEqual(['id', 'type', 'version', 'occurredAt', 'source', 'data']);
  });

  it('index.json lists every registered contract with its file', () => {
    const index = JSON.parse(committedFiles().get(JSON_SCHEMA_INDEX_FILE)!) as { events: { type: string; version: number; file: string }[] };
    expect(index.events.map((e) => `${e.type}@${e.version}`).sort()).toEqual(registry.definitions.map((d) => `${d.type}@${d.version}`).sort());
    for (const entry of index.events) expect(committedFiles().has(entry.file)).toBe(true);
  });
});

describe('a JSON Schema validator agrees with the TypeScript contract', () => {
  const validate = compileCommitted();

  it('accepts every fixture of 20 seeds', () => {
    for (let seed = 0; seed < 20; seed += 1) {
      for (const event of createFixtures({ seed }).take(100)) expect(validate(event), JSON.stringify(event)).toBe(true);
    }
  });

  const placed = () => createFixtures({ seed: 2 }).orderPlaced({ lines: 2 });
  const cancelled = () => createFixtures({ seed: 2 }).orderCancelled({ reason: 'other', note: 'duplicate order' });
  it.each([
    ['zero quantity', () => withField(placed(), 'data.lines.0.quantity', 0)],
    ['fractional price', () => withField(placed(), 'data.lines.0.unitPriceMinor', 1.5)],
    ['unknown currency', () => withField(placed(), 'data.currency', 'EURO')],
    ['unknown field', () => withField(placed(), 'data.coupon', 'X')],
    ['padded text (trim rule is a pattern, so it exports)', () => withField(placed(), 'data.shippingAddress.city', 'Berlin ')],
    ['id not a UUID', () => withField(placed(), 'id', 'abc')],
    ['occurredAt without offset', () => withField(placed(), 'occurredAt', '2026-01-01T00:00:00')],
    ['negative hops', () => withField(placed(), 'hops', -1)],
    ['reason "other" without note (if/then)', () => withoutField(cancelled(), 'data.note')],
  ])('rejects %s, as zod does', (_label, make) => {
    const input = make();
    expect(registry.safeParse(input).ok).toBe(false);
    expect(validate(input)).toBe(false);
  });

  it('documents the one rule JSON Schema cannot express (total = sum of lines) instead of dropping it silently', () => {
    const input = withField(placed(), 'data.totalMinor', (placed() as OrderEvent & { data: { totalMinor: number } }).data.totalMinor + 1);
    expect(registry.safeParse(input).ok).toBe(false);
    expect(validate(input)).toBe(true);
    const schema = JSON.parse(committedFiles().get('order.placed.v1.schema.json')!) as {
      description: string;
      properties: { data: { description: string } };
    };
    expect(schema.properties.data.description).toMatch(/totalMinor must equal the sum.*enforces it/);
    expect(schema.description).toContain('Cross-field rules are enforced by the TypeScript contract in schemas/; see the description of data.');
  });
});

describe('exporter', () => {
  it('refuses a refinement without a description, so no rule is lost without a word', () => {
    const undocumented = defineEvent({
      type: 'test.refined',
      version: 1,
      description: 'test only',
      data: z.strictObject({ a: z.int(), b: z.int() }).refine((d) => d.a < d.b, { error: 'a must be below b' }),
    });
    expect(() => eventJsonSchema(undocumented)).toThrow(
      'test.refined v1: refinements at properties.data cannot be expressed in JSON Schema; describe each rule with .meta({ description })',
    );
  });

  it('exports a documented refinement and points to it from the root description', () => {
    const documented = defineEvent({
      type: 'test.refined',
      version: 1,
      description: 'test only',
      data: z
        .strictObject({ a: z.int(), b: z.int() })
        .refine((d) => d.a < d.b, { error: 'a must be below b' })
        .meta({ description: 'a must be below b' }),
    });
    const schema = eventJsonSchema(documented) as { description: string; properties: { data: { description: string } } };
    expect(schema.properties.data.description).toBe('a must be below b');
    expect(schema.description).toBe('test only Cross-field rules are enforced by the TypeScript contract in schemas/; see the description of data.');
  });

  it('is deterministic and independent of registration order', () => {
    const forward = renderJsonSchemaFiles(EVENT_DEFINITIONS);
    const backward = renderJsonSchemaFiles([...EVENT_DEFINITIONS].reverse());
    expect([...backward.entries()]).toEqual([...forward.entries()]);
  });
});
