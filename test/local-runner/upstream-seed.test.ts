/**
 * A runner restarted on a stream that outlives it (--persist-stream, --endpoint) with the same --seed
 * must not write event ids already on the stream (the consumers would skip them as duplicates and the
 * run's new events would never take effect). The first run keeps the seed as given (reproducible).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import { nextRunSeed, seedForRun } from '../../local/upstream-seed';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

describe('upstream seed per run', () => {
  it('keeps the given seed for the first run and gives every later run on the same data folder its own', async () => {
    const root = await mkdtemp(join(tmpdir(), 'upstream-seed-'));
    roots.push(root);
    const runs = [await nextRunSeed(root, 42), await nextRunSeed(root, 42), await nextRunSeed(root, 42)];
    expect(runs.map((r) => r.run)).toEqual([0, 1, 2]);
    expect(runs[0]!.seed).toBe(42);
    expect(new Set(runs.map((r) => r.seed)).size).toBe(3);
  });

  it('resumed runs write no event id of an earlier run (same --seed)', () => {
    const ids = (seed: number) => new Set(createFixtures({ seed, startTime: 0, source: 'local-runner' }).take(500).map((e) => e.id));
    const first = ids(seedForRun(7, 0));
    const second = ids(seedForRun(7, 1));
    expect([...second].filter((id) => first.has(id))).toEqual([]);
    expect(ids(7)).toEqual(first);
  });

  it('stays within the 31-bit seed range', () => {
    for (let run = 0; run < 50; run++) expect(seedForRun(2 ** 31 - 1, run)).toBeLessThan(2 ** 31);
  });
});
