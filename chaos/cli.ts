/**
 * `npm run chaos`: the local pipeline under faults, judged against ground truth. One row per
 * scenario (chaos/scenarios.ts); exit 1 if any row shows a lost or double-counted effect or a consumer
 * that did not drain, 2 on bad usage. Loopback only: every engine and proxy listens on 127.0.0.1.
 */
import { parseArgs } from 'node:util';
import { runScenario, type ChaosRow } from './run-scenario';
import { SCENARIOS } from './scenarios';

const HELP = `Usage: npm run chaos -- [--scenario NAME] [--duration S] [--rate N] [--seed N] [--json] [--keep]

Runs the local pipeline (what npm start runs: same definition, workers and sinks, stream kept with
--persist-stream) under each scenario's scheduled fault plan, then the ground-truth check (ops verify),
a redrive of whatever ended in on-failure, and the ground-truth check again. Prints one row per scenario.

Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(15)} ${s.description}`).join('\n')}

Options:
  --scenario NAME   run one scenario (repeatable)
  --duration S      seconds the upstream produces per scenario (default 8; the drain comes after)
  --rate N          events per second (default 40)
  --seed N          fixture seed (default 7)
  --json            one JSON object per row, then a verdict object
  --keep            keep each scenario's data folder (printed) for inspection

Exit code: 0 when every row is clean, 1 when a row shows a loss, a double-counted effect or a stuck
consumer, 2 on bad usage.`;

function fail(message: string): never {
  process.stderr.write(`npm run chaos: ${message}\n\n${HELP}\n`);
  process.exit(2);
}

function num(value: string | undefined, name: string, fallback: number, ok: (n: number) => boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || !ok(n)) fail(`--${name} "${value}" is out of range`);
  return n;
}

export function formatRows(rows: readonly ChaosRow[]): string[] {
  const header = ['SCENARIO', 'EVENTS', 'UNIQUE', 'PROCESSED', 'QUAR', 'ON-FAIL', 'REDRIVEN', 'LOST', 'DOUBLE', 'STUCK', 'DRAIN', 'VERDICT'];
  const cells = rows.map((r) =>
    r.skipped !== undefined
      ? [r.scenario, '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', `skipped: ${r.skipped}`]
      : [r.scenario, r.events, r.unique, r.processed, r.quarantined, r.onFailure, r.redriven, r.lost, r.double, r.stuck, `${(r.drainMs / 1000).toFixed(1)}s`, r.ok ? 'clean' : 'FAILED'].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ');
  return [line(header), ...cells.map(line)];
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        scenario: { type: 'string', multiple: true },
        duration: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const names = values.scenario ?? SCENARIOS.map((s) => s.name);
  for (const name of names) if (!SCENARIOS.some((s) => s.name === name)) fail(`unknown scenario "${name}"; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const options = {
    durationMs: num(values.duration, 'duration', 8, (n) => n >= 2 && n <= 600) * 1000,
    rate: num(values.rate, 'rate', 40, (n) => n > 0 && n <= 2000),
    seed: num(values.seed, 'seed', 7, (n) => Number.isInteger(n) && n >= 0),
    invalidFraction: 0.05,
    keep: values.keep ?? false,
    log: (line: string) => process.stderr.write(`${line}\n`),
  };
  const rows: ChaosRow[] = [];
  for (const name of names) {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    process.stderr.write(`chaos: ${scenario.name}: ${scenario.description}\n`);
    let row: ChaosRow;
    try {
      row = await runScenario(scenario, options);
    } catch (error) {
      row = {
        scenario: name, events: 0, unique: 0, processed: 0, quarantined: 0, onFailure: 0, redriven: 0, lost: 0, double: 0, stuck: 1, drainMs: 0,
        problems: [`the scenario could not run: ${(error as Error).message}`], notes: [], ok: false,
      };
    }
    rows.push(row);
    if (values.json) process.stdout.write(`${JSON.stringify(row)}\n`);
    else {
      for (const p of row.problems) process.stderr.write(`  problem: ${p}\n`);
      if (row.skipped) process.stderr.write(`  skipped: ${row.skipped}\n`);
      if (row.dataDir) process.stderr.write(`  data folder kept: ${row.dataDir}\n`);
    }
  }
  const clean = rows.every((r) => r.ok);
  if (values.json) process.stdout.write(`${JSON.stringify({ verdict: clean ? 'clean' : 'failed', rows: rows.length })}\n`);
  else {
    process.stdout.write(`\n${formatRows(rows).join('\n')}\n\n`);
    process.stdout.write(clean ? 'verdict: every row clean (nothing lost, nothing counted twice, every consumer drained)\n' : 'verdict: FAILED (see the rows above)\n');
  }
  return clean ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm run chaos failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
