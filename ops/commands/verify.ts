/**
 * `ops verify`: the ground-truth check of a local run. Exactly-once effects, judged from the stream:
 * what each reference consumer's effects must be (from the unique valid events of the stream) against
 * what the run produced (the data folder). Exit 0 when they agree, 1 on any difference.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient, defaultRegion } from '../../kinesis/client';
import { startKinesalite, type EmbeddedKinesis } from '../../kinesis/embedded';
import { pipeline as defaultPipeline } from '../../pipeline';
import { defaultDataDir } from '../context';
import { formatTable } from '../format/table';
import { UsageError } from '../io';
import { RUNNER_FILE, readRunnerInfo, runnerAlive } from '../local/runner-info';
import type { EffectDifference } from '../verify/compare-effects';
import { verifyRun, type VerifyReport } from '../verify/verify-run';
import { defineCommand, intOption, type Command } from './command';

const OPTIONS = {
  json: { type: 'boolean' },
  'max-differences': { type: 'string' },
} as const;

const HELP = `Usage: ops verify [<consumer>...] [--data-dir DIR] [--endpoint URL] [--json]

The ground-truth check of a local run (npm start). Reads the whole stream (every shard, from its
oldest record), decodes and validates every event as the consumers do, and computes what each
reference consumer's effects must be from the UNIQUE VALID events (an event id counts once,
however often it was delivered or written):
  order-metrics   each event counted once, in the 60 s window of its first record's arrival time:
                  orders placed / paid / shipped / cancelled and revenue per currency, against the
                  published windows (metrics/<namespace>.ndjson) plus the state of windows still open
                  (checkpoints/, with --persist-stream)
  order-review    one review request per qualifying order.placed, against the requests review-intake
                  received (invocations/review-intake.ndjson)
Prints every missing, double-counted and unexpected effect. An effect counted once but in a later
window (a record re-put by "ops redrive --mode reput" arrives again) is listed as moved, not an error.
Lines of those files that are not JSON (torn writes) are errors too: they may hide an effect.

Where the stream is read: --endpoint URL; else the running runner's Kinesis (runner.json); else the
stream a stopped runner kept on disk with --persist-stream (<data-dir>/kinesalite, opened here).
The default in-memory stream is gone once its runner stopped: verify while it runs, or use --persist-stream.

Exit code: 0 when every effect matches, 1 on any difference, 2 on usage errors.

Options:
  --json                 the report as one JSON object
  --max-differences N    differences printed (default 40; --json prints all)

Examples:
  npm run verify
  npm run verify -- --data-dir /tmp/run1
  npm run ops -- verify order-review --local --json`;

export const verifyCommand: Command = defineCommand({
  name: 'verify',
  summary: 'ground-truth check: effects of the reference consumers against the stream (local runs)',
  help: HELP,
  options: OPTIONS,
  async run({ values, positionals }, env) {
    if (values.stage !== undefined) throw new UsageError('verify checks a local run (its data folder): --stage does not apply');
    const definition = env.definition ?? defaultPipeline;
    const all = Object.keys(definition.consumers);
    for (const name of positionals) if (!all.includes(name)) throw new UsageError(`unknown consumer "${name}"; consumers: ${all.join(', ')}`);
    const maxDifferences = intOption(values['max-differences'], 'max-differences', 40, 0);
    const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
    const source = await openStream(dataDir, values.endpoint, values.region, env.clients?.kinesis);
    try {
      const report = await verifyRun({ definition, dataDir, kinesis: source.kinesis, ...(positionals.length > 0 ? { consumers: positionals } : {}) });
      if (values.json) env.io.out(JSON.stringify({ ...report, source: source.description }));
      else for (const line of formatVerifyReport(report, source.description, maxDifferences)) env.io.out(line);
      return report.ok ? 0 : 1;
    } finally {
      await source.close();
    }
  },
});

interface StreamSource {
  readonly kinesis: KinesisClient;
  readonly description: string;
  close(): Promise<void>;
}

async function openStream(dataDir: string, endpoint: string | undefined, region: string | undefined, injected: KinesisClient | undefined): Promise<StreamSource> {
  const noop = async () => undefined;
  if (injected !== undefined) return { kinesis: injected, description: 'the given Kinesis client', close: noop };
  const clientFor = (url: string, r: string) => createKinesisClient({ endpoint: url, region: r });
  if (endpoint !== undefined) {
    const kinesis = clientFor(endpoint, region ?? defaultRegion());
    return { kinesis, description: endpoint, close: async () => kinesis.destroy() };
  }
  const runner = await readRunnerInfo(dataDir).catch(() => undefined);
  // runner.json of a stopped runner keeps its last endpoints (state "stopped"): they no longer answer.
  if (runner !== undefined && runner['state'] !== 'stopped' && runnerAlive(runner)) {
    const kinesis = clientFor(runner.kinesisEndpoint, region ?? runner.region);
    return { kinesis, description: `${runner.kinesisEndpoint} (the running runner)`, close: async () => kinesis.destroy() };
  }
  const persisted = join(dataDir, 'kinesalite');
  if (await stat(persisted).then((s) => s.isDirectory(), () => false)) {
    let engine: EmbeddedKinesis;
    try {
      engine = await startKinesalite({ path: persisted });
    } catch (error) {
      throw new Error(`cannot open the stream kept in ${persisted}: ${(error as Error).message} (is a runner still using it?)`);
    }
    const kinesis = clientFor(engine.endpoint, region ?? runner?.region ?? defaultRegion());
    return {
      kinesis,
      description: `${persisted} (kept by --persist-stream)`,
      close: async () => {
        kinesis.destroy();
        await engine.stop();
      },
    };
  }
  const where = runner === undefined ? `no ${RUNNER_FILE} in ${dataDir}` : 'its runner has stopped and kept the stream in memory only';
  throw new UsageError(
    `no stream to read: ${where}. Verify while \`npm start\` runs, run it with --persist-stream (the stream stays in <data-dir>/kinesalite), or pass --endpoint URL`,
  );
}

const KIND_LABEL: Record<EffectDifference['kind'], string> = { missing: 'MISSING', double: 'DOUBLE', unexpected: 'UNEXPECTED', moved: 'moved' };

export function formatVerifyReport(report: VerifyReport, source: string, maxDifferences: number): string[] {
  const lines: string[] = [`stream read from ${source}`];
  for (const s of report.streams) {
    const c = s.counts;
    lines.push(`${s.name}: ${s.records} records, ${c.events} events: ${c.valid} valid (${c.uniqueValid} unique, ${c.duplicateIds} repeated ids), ${c.invalid} invalid`);
  }
  lines.push('');
  lines.push(
    ...formatTable(
      ['CONSUMER', 'EFFECT', 'EXPECTED', 'PRODUCED', 'MISSING', 'DOUBLE', 'UNEXPECTED', 'MOVED', 'VERDICT'],
      report.consumers.map((v) => [
        v.consumer,
        v.effect,
        String(v.expected),
        String(v.actual),
        String(v.missing),
        String(v.double),
        String(v.unexpected),
        String(v.moved),
        v.ok ? 'ok' : 'DIFFERS',
      ]),
    ),
  );
  const shown = report.differences.filter((d) => d.kind !== 'moved').slice(0, maxDifferences);
  const failing = report.differences.filter((d) => d.kind !== 'moved').length;
  if (failing > 0) {
    lines.push('', 'Differences:');
    for (const d of shown) {
      lines.push(`  ${KIND_LABEL[d.kind].padEnd(10)} ${d.consumer}: ${d.subject}: expected ${d.expected}, produced ${d.actual}${d.detail ? ` (${d.detail})` : ''}`);
    }
    if (failing > shown.length) lines.push(`  ... and ${failing - shown.length} more (--json lists all)`);
  }
  if (report.unreadable.length > 0) {
    lines.push('', `Unreadable lines (${report.unreadable.length}; each may hide an effect):`);
    for (const u of report.unreadable.slice(0, 10)) lines.push(`  ${u.file}:${u.line}: ${u.text}`);
  }
  if (report.notChecked.length > 0) lines.push('', `not checked (not a reference consumer): ${report.notChecked.join(', ')}`);
  lines.push('', report.ok ? 'verdict: every effect matches the stream' : 'verdict: the effects DIFFER from the stream');
  return lines;
}
