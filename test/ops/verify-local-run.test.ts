/**
 * `ops verify` (npm run verify) on a real local run: the project's reference consumers (order-metrics
 * with 1 s tumbling windows so several close during the run, order-review -> review-intake) on
 * kinesalite with --persist-stream, then the check reads the stream the stopped runner kept on disk.
 * It passes on the clean run, and fails naming the effect when one is removed (missing) or repeated
 * (double) in the data folder.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../local/pipeline-runner';
import { runCli } from '../../ops/cli';
import { definePipeline } from '../../pipeline/define-pipeline';
import { pipeline as project } from '../../pipeline/pipeline';
import { captureIo } from './helpers';

const metrics = project.consumers['order-metrics']!;
const review = project.consumers['order-review']!;
const definition = definePipeline({
  name: 'verify-e2e',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    'order-metrics': { ...metrics, mapping: { ...metrics.mapping, tumblingWindowInSeconds: 1, maximumBatchingWindowInSeconds: 0 } },
    // A low threshold so that many orders need review.
    'order-review': { ...review, environment: { ...review.environment, REVIEW_AMOUNT_THRESHOLD_MINOR: '20000' } },
  },
  functions: project.functions,
});

let dataDir: string;
const reviewFile = () => join(dataDir, 'invocations', 'review-intake.ndjson');
const metricsFile = () => join(dataDir, 'metrics', 'Orders', 'Business.ndjson');

async function verify(): Promise<{ code: number; report: { ok: boolean; consumers: { consumer: string; expected: number; actual: number; missing: number; double: number }[]; differences: { kind: string; subject: string }[] } }> {
  const { io, out, err } = captureIo();
  const code = await runCli(['verify', '--data-dir', dataDir, '--json'], { io, definition });
  if (out.length === 0) throw new Error(`verify printed no report (exit ${code}): ${err.join('\n')}`);
  return { code, report: JSON.parse(out.join('\n')) };
}

/** Runs `change` on a file's text, verifies, and puts the file back. */
async function withEdited<T>(path: string, change: (lines: string[]) => string[], check: () => Promise<T>): Promise<T> {
  const original = await readFile(path, 'utf8');
  await writeFile(path, change(original.split('\n').filter(Boolean)).join('\n') + '\n');
  try {
    return await check();
  } finally {
    await writeFile(path, original);
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'verify-e2e-'));
  const run = await startLocalPipeline({ definition, dataDir, persistStream: true, rate: 150, events: 450, invalidFraction: 0.05, seed: 21, refreshIntervalMs: 200 });
  expect(await run.waitUntilAccounted(90_000)).toBe(true);
  const summary = await run.stop();
  expect(summary.accounted).toBe(true);
}, 150_000);

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('ops verify on a local run', () => {
  it('passes when every effect matches the stream (published windows + open window state, one review request per qualifying order)', async () => {
    const { code, report } = await verify();
    expect(report.differences.filter((d) => d.kind !== 'moved')).toEqual([]);
    expect(code).toBe(0);
    const metricsVerdict = report.consumers.find((c) => c.consumer === 'order-metrics')!;
    const reviewVerdict = report.consumers.find((c) => c.consumer === 'order-review')!;
    // 450 events, ~5 % invalid: the valid ones are all counted, and some orders needed review.
    expect(metricsVerdict.expected).toBeGreaterThan(380);
    expect(metricsVerdict.actual).toBe(metricsVerdict.expected);
    expect(reviewVerdict.expected).toBeGreaterThan(5);
    expect(reviewVerdict.actual).toBe(reviewVerdict.expected);
  });

  it('detects a missing review request and names its event', async () => {
    const removed = JSON.parse((await readFile(reviewFile(), 'utf8')).split('\n')[0]!) as { sourceEventId: string };
    const { code, report } = await withEdited(reviewFile(), (lines) => lines.slice(1), verify);
    expect(code).toBe(1);
    expect(report.consumers.find((c) => c.consumer === 'order-review')).toMatchObject({ missing: 1, double: 0 });
    expect(report.differences).toEqual([expect.objectContaining({ kind: 'missing', subject: expect.stringContaining(`review request for event ${removed.sourceEventId}`) })]);
  });

  it('detects a double review request (the same request received twice)', async () => {
    const original = (await readFile(reviewFile(), 'utf8')).split('\n').filter(Boolean);
    const repeated = JSON.parse(original[0]!) as { sourceEventId: string };
    const { code, report } = await withEdited(reviewFile(), (lines) => [...lines, lines[0]!], verify);
    expect(code).toBe(1);
    expect(report.consumers.find((c) => c.consumer === 'order-review')).toMatchObject({ missing: 0, double: 1 });
    expect(report.differences).toEqual([expect.objectContaining({ kind: 'double', subject: expect.stringContaining(repeated.sourceEventId) })]);
  });

  it('detects a window published twice (double-counted orders and revenue)', async () => {
    const lines = (await readFile(metricsFile(), 'utf8')).split('\n').filter(Boolean);
    const first = JSON.parse(lines[0]!) as { Timestamp: string };
    const window = lines.filter((l) => (JSON.parse(l) as { Timestamp: string }).Timestamp === first.Timestamp);
    const placed = JSON.parse(window.find((l) => l.includes('"OrdersPlaced"'))!) as { Value: number };
    const { code, report } = await withEdited(metricsFile(), (all) => [...all, ...window], verify);
    expect(code).toBe(1);
    const counted = (JSON.parse(window.find((l) => l.includes('"OrdersPaid"'))!) as { Value: number }).Value;
    expect(report.consumers.find((c) => c.consumer === 'order-metrics')).toMatchObject({ missing: 0 });
    expect(report.consumers.find((c) => c.consumer === 'order-metrics')!.double).toBeGreaterThanOrEqual(placed.Value + counted);
    expect(report.differences.every((d) => d.kind === 'double')).toBe(true);
  });

  it('detects a window never published (missing orders), and a torn line as unreadable', async () => {
    const lines = (await readFile(metricsFile(), 'utf8')).split('\n').filter(Boolean);
    const placedLine = lines.find((l) => l.includes('"OrdersPlaced"') && (JSON.parse(l) as { Value: number }).Value > 0)!;
    const { code, report } = await withEdited(metricsFile(), (all) => [...all.filter((_, i) => i !== all.indexOf(placedLine)), placedLine.slice(0, 20)], verify);
    expect(code).toBe(1);
    expect(report.consumers.find((c) => c.consumer === 'order-metrics')).toMatchObject({ missing: (JSON.parse(placedLine) as { Value: number }).Value, double: 0 });
    expect((report as unknown as { unreadable: unknown[] }).unreadable).toHaveLength(1);
  });

  it('answers a data folder without a stream with the fix, not a stack trace', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'verify-empty-'));
    try {
      const { io, err } = captureIo();
      expect(await runCli(['verify', '--data-dir', empty], { io, definition })).toBe(2);
      expect(err.join('\n')).toMatch(/no stream to read: no runner.json .*--persist-stream/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
