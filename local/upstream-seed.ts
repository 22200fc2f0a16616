/**
 * The synthetic upstream's fixture seed for this run. Fixtures are deterministic per seed, event ids
 * included, so a runner restarted on a stream that outlives it (`--persist-stream`, `--endpoint`)
 * with the same `--seed` would write event ids already on the stream: the consumers rightly skip
 * them as duplicates, and the run would lose its new events. Each run on such a stream therefore
 * gets its own seed, derived from the given one and the number of earlier runs on that data folder
 * (`<data-dir>/upstream-runs.json`): the first run uses the seed as given, so a fresh run stays
 * reproducible, and a resumed run never reuses ids.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonFileAtomically } from './esm/atomic-json-file';

export const UPSTREAM_RUNS_FILE = 'upstream-runs.json';

/** The seed of run number `run` (0 = the first) for a given seed: distinct for every run, within 0..2^31-1. */
export function seedForRun(seed: number, run: number): number {
  if (run === 0) return seed;
  // Golden-ratio step: consecutive runs land far apart in the PRNG's seed space.
  return (seed + Math.imul(run, 0x9e3779b1)) >>> 1;
}

/** Counts this run and returns its seed (reads and rewrites the counter in the data folder). */
export async function nextRunSeed(dataDir: string, seed: number): Promise<{ seed: number; run: number }> {
  const path = join(dataDir, UPSTREAM_RUNS_FILE);
  let runs = 0;
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as { runs?: unknown };
    if (typeof stored.runs === 'number' && Number.isInteger(stored.runs) && stored.runs >= 0) runs = stored.runs;
  } catch {
    // No file yet (or unreadable): this is the first run we know of.
  }
  await writeJsonFileAtomically(path, { runs: runs + 1 });
  return { seed: seedForRun(seed, runs), run: runs };
}
