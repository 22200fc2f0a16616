/**
 * `npm run test:mutation [-- area ...]`: StrykerJS over each area of mutation/areas.mjs in turn (all by
 * default), then one line per area with its mutation score. Reports: reports/mutation/<area>.html.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AREAS } from './areas.mjs';

const root = join(import.meta.dirname, '..');
const requested = process.argv.slice(2);
const unknown = requested.filter((a) => !(a in AREAS));
if (unknown.length > 0) {
  process.stderr.write(`unknown area ${unknown.join(', ')}; areas: ${Object.keys(AREAS).join(', ')}\n`);
  process.exit(2);
}
const areas = requested.length > 0 ? requested : Object.keys(AREAS);

/** Mutation score as Stryker defines it: killed + timeout over all valid mutants (no coverage, survived included). */
function score(area) {
  const report = JSON.parse(readFileSync(join(root, 'reports', 'mutation', `${area}.json`), 'utf8'));
  const counts = {};
  for (const file of Object.values(report.files)) for (const m of file.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const valid = detected + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  return { percent: valid === 0 ? 100 : (100 * detected) / valid, counts };
}

let failed = false;
const lines = [];
for (const area of areas) {
  const { tests } = AREAS[area];
  process.stdout.write(`\n=== mutation testing ${area} (tests: ${tests.join(' ')}) ===\n`);
  const run = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATION_AREA: area, MUTATION_TESTS: tests.join(',') },
  });
  if (run.status !== 0) {
    failed = true;
    lines.push(`${area}: stryker failed (exit ${run.status ?? run.signal})`);
    continue;
  }
  const { percent, counts } = score(area);
  lines.push(`${area}: ${percent.toFixed(2)} % (${JSON.stringify(counts)}) report reports/mutation/${area}.html`);
}
process.stdout.write(`\n${lines.join('\n')}\n`);
process.exit(failed ? 1 : 0);
