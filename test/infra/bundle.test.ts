/** esbuild bundles: one minified ESM file per function (a source map only on request), SDK included, runnable by Node. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { definePipeline, pipeline, type PipelineDefinitionInput } from '../../pipeline';
import { buildBundles, type BundleResult } from '../../infra/bundle';

const projectRoot = resolve(import.meta.dirname, '../..');
const entry = 'test/infra/fixtures/sample-handler.ts';

/** The reference pipeline with every function pointed at the fixture entry. */
const definition = definePipeline({
  ...(structuredClone(pipeline) as PipelineDefinitionInput),
  consumers: Object.fromEntries(Object.entries(pipeline.consumers).map(([k, c]) => [k, { ...c, entry }])),
  functions: Object.fromEntries(Object.entries(pipeline.functions).map(([k, f]) => [k, { ...f, entry }])),
});

let outDir: string;
let results: BundleResult[];
let plainDir: string;
let plainResults: BundleResult[];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'bundles-'));
  plainDir = mkdtempSync(join(tmpdir(), 'bundles-'));
  [results, plainResults] = await Promise.all([
    buildBundles({ definition, projectRoot, outDir, sourceMaps: true }),
    buildBundles({ definition, projectRoot, outDir: plainDir }),
  ]);
});

describe('buildBundles', () => {
  it('ships no source map by default (a debug choice): no .map file, no sourceMappingURL, nothing in the zip size', () => {
    for (const r of plainResults) {
      const file = join(plainDir, r.name, 'index.mjs');
      expect(existsSync(`${file}.map`)).toBe(false);
      expect(readFileSync(file, 'utf8')).not.toContain('sourceMappingURL');
      expect(r.sourceMapBytes).toBe(0);
      expect(r.zippedBytes).toBeLessThan(r.bytes);
    }
  });

  it('with sourceMaps: writes one folder per consumer and plain function with index.mjs and its source map, and reports sizes', () => {
    expect(results.map((r) => r.name).sort()).toEqual(['order-metrics', 'order-review', 'review-intake']);
    for (const r of results) {
      const file = join(outDir, r.name, 'index.mjs');
      expect(readFileSync(file).length).toBe(r.bytes);
      expect(readFileSync(`${file}.map`).length).toBe(r.sourceMapBytes);
      expect(r.zippedBytes).toBeGreaterThan(0);
      expect(r.zippedBytes).toBeLessThan(r.bytes + r.sourceMapBytes);
    }
  });

  it('bundles the AWS SDK and dependencies into one minified ES module linked to its source map', () => {
    const code = readFileSync(join(outDir, 'review-intake', 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).not.toMatch(/from\s*["']zod["']/);
    expect(code).toMatch(/export\s*\{[^}]*as handler/);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    // minified: long lines (newlines survive only inside string literals)
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    const map = JSON.parse(readFileSync(join(outDir, 'review-intake', 'index.mjs.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources.some((s) => s.endsWith('sample-handler.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('produces a bundle Node runs as ESM (handler works, SDK client constructed)', async () => {
    const mod = (await import(pathToFileURL(join(outDir, 'order-review', 'index.mjs')).href)) as { handler: (e: unknown) => Promise<unknown> };
    await expect(mod.handler({ n: 21 })).resolves.toEqual({ doubled: 42, sdk: 'function' });
    await expect(mod.handler({ n: 'x' })).rejects.toThrow();
  });

  it('names the function whose entry is missing', async () => {
    const broken = definePipeline({
      ...(structuredClone(definition) as PipelineDefinitionInput),
      functions: { 'review-intake': { ...definition.functions['review-intake']!, entry: 'consumers/nope/handler.ts' } },
    });
    await expect(buildBundles({ definition: broken, projectRoot, outDir: mkdtempSync(join(tmpdir(), 'bundles-')) })).rejects.toThrow(
      'entry "consumers/nope/handler.ts" of "review-intake" does not exist (pipeline definition: review-intake.entry)',
    );
    expect(existsSync(join(outDir, 'review-intake', 'index.mjs'))).toBe(true);
  });
});
