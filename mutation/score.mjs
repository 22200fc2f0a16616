/**
 * `npm run test:mutation:score`: the mutation score per file and per area from the JSON reports already
 * in reports/mutation/ (whole-area runs `<area>.json` and part runs `<area>.<part>.json`), without
 * running anything. A file measured by several reports counts once, from the newest report. Prints a
 * Markdown table per area and one line per area; `local-esm-rules` and `local-esm-mapping` are also
 * summed as `local/esm` (the two halves of one folder), without `kinesis/filter-pattern.ts`, which
 * lives outside it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AREAS } from './areas.mjs';

const dir = join(import.meta.dirname, '..', 'reports', 'mutation');
const DETECTED = ['Killed', 'Timeout'];
const UNDETECTED = ['Survived', 'NoCoverage'];

let reports;
try {
  reports = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.incremental.json'));
} catch {
  process.stderr.write(`no reports in ${dir}: run \`npm run test:mutation\` first\n`);
  process.exit(2);
}

/** file -> { counts, report, mtime } from the newest report that measured it, per area. */
const byArea = new Map();
for (const name of reports) {
  const area = Object.keys(AREAS).find((a) => name === `${a}.json` || name.startsWith(`${a}.`));
  if (area === undefined) continue;
  const path = join(dir, name);
  const mtime = statSync(path).mtimeMs;
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const files = byArea.get(area) ?? new Map();
  for (const [file, { mutants }] of Object.entries(report.files)) {
    if (mutants.length === 0) continue;
    const previous = files.get(file);
    if (previous !== undefined && previous.mtime > mtime) continue;
    const counts = {};
    for (const m of mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
    files.set(file, { counts, report: name, mtime });
  }
  byArea.set(area, files);
}

const sum = (counts, statuses) => statuses.reduce((n, s) => n + (counts[s] ?? 0), 0);
const pct = (counts) => {
  const detected = sum(counts, DETECTED);
  const valid = detected + sum(counts, UNDETECTED);
  return valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)} %`;
};
const add = (into, counts) => {
  for (const [k, v] of Object.entries(counts)) into[k] = (into[k] ?? 0) + v;
  return into;
};
const row = (label, c, from = '') =>
  `| ${label} | ${sum(c, ['Killed'])} | ${sum(c, ['Timeout'])} | ${sum(c, ['Survived'])} | ${sum(c, ['NoCoverage'])} | ${sum(c, ['CompileError'])} | ${pct(c)} | ${from} |`;

const totals = new Map();
for (const area of Object.keys(AREAS)) {
  const files = byArea.get(area);
  if (files === undefined) continue;
  const total = {};
  process.stdout.write(`\n### ${area}\n\n| file | killed | timed out | survived | no coverage | compile errors | score | report |\n|---|---:|---:|---:|---:|---:|---:|---|\n`);
  for (const [file, { counts, report }] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    add(total, counts);
    process.stdout.write(`${row(`\`${file}\``, counts, report)}\n`);
  }
  process.stdout.write(`${row('**total**', total)}\n`);
  totals.set(area, total);
}

const localEsm = {};
for (const area of ['local-esm-rules', 'local-esm-mapping']) {
  for (const [file, { counts }] of byArea.get(area) ?? []) if (file.startsWith('local/esm/')) add(localEsm, counts);
}
process.stdout.write('\n');
for (const [area, total] of totals) process.stdout.write(`${area}: ${pct(total)}\n`);
if (Object.keys(localEsm).length > 0) process.stdout.write(`local/esm (local/esm/** of both local-esm areas): ${pct(localEsm)}\n`);
