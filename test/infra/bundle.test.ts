/** esbuild bundles: one minified ESM entry per function, dynamic imports split into chunks, SDK included, runnable by Node; source maps only on request. */
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
  // With source maps (the debug choice) for the tests below, and the default build without them.
  [results, plainResults] = await Promise.all([
    buildBundles({ definition, projectRoot, outDir, sourceMaps: true }),
    buildBundles({ definition, projectRoot, outDir: plainDir }),
  ]);
});

describe('buildBundles', () => {
  it('ships no source map by default (a debug choice): no .map file, no sourceMappingURL, nothing in the sizes', () => {
    for (const r of plainResults) {
      expect(r.files.filter((f) => f.endsWith('.map'))).toEqual([]);
      expect(r.sourceMapBytes).toBe(0);
      for (const f of r.files) expect(readFileSync(join(plainDir, r.name, f), 'utf8')).not.toContain('sourceMappingURL');
      expect(existsSync(join(plainDir, r.name, 'index.mjs.map'))).toBe(false);
    }
  });

  it('writes one folder per consumer and plain function with index.mjs, its chunks and their source maps, and reports sizes', () => {
    expect(results.map((r) => r.name).sort()).toEqual(['order-metrics', 'order-review', 'review-intake']);
    for (const r of results) {
      const size = (file: string) => readFileSync(join(outDir, r.name, file)).length;
      const sum = (files: string[]) => files.reduce((total, f) => total + size(f), 0);
      expect(r.files[0]).toBe('index.mjs');
      expect(size('index.mjs')).toBe(r.bytes);
      const code = r.files.filter((f) => f.endsWith('.mjs'));
      const maps = r.files.filter((f) => f.endsWith('.map'));
      expect(maps.sort()).toEqual(code.map((f) => `${f}.map`).sort());
      expect(sum(maps)).toBe(r.sourceMapBytes);
      expect(r.initBytes + r.lazyBytes).toBe(sum(code));
      expect(r.zippedBytes).toBeGreaterThan(0);
      expect(r.zippedBytes).toBeLessThan(sum(r.files));
    }
  });

  it('splits a dynamic import() into chunks the cold start does not load, counting only what init loads in initBytes', () => {
    const r = results.find((x) => x.name === 'order-review')!;
    const text = (file: string) => readFileSync(join(outDir, r.name, file), 'utf8');
    expect(r.files.some((f) => f.startsWith('chunks/') && f.endsWith('.mjs'))).toBe(true);
    // The SQS client's service id appears only in a lazily loaded chunk, never in what init loads.
    expect(text('index.mjs')).not.toContain('AmazonSQS');
    const lazyWithSqs = r.files.filter((f) => f.endsWith('.mjs') && text(f).includes('AmazonSQS'));
    expect(lazyWithSqs.length).toBeGreaterThan(0);
    expect(r.lazyBytes).toBeGreaterThanOrEqual(lazyWithSqs.reduce((t, f) => t + text(f).length, 0));
    // zod (imported statically) is in what init loads, the SDK (imported on first use) is not.
    expect(r.initBytes).toBeGreaterThan(20 * 1024);
    expect(r.lazyBytes).toBeGreaterThan(r.initBytes);
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

  it('produces a bundle Node runs as ESM (handler works, SDK client loaded from its chunk on first use)', async () => {
    const mod = (await import(pathToFileURL(join(outDir, 'order-review', 'index.mjs')).href)) as { handler: (e: unknown) => Promise<unknown> };
    await expect(mod.handler({ n: 21 })).resolves.toEqual({ doubled: 42 });
    await expect(mod.handler({ n: 21, withClient: true })).resolves.toEqual({ doubled: 42, sdk: 'function' });
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
