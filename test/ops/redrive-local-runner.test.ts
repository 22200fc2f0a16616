/**
 * End to end on the local runner (kinesalite, real local event source mappings, real consumer
 * runtime in sandboxes): two consumers exhaust their retries while a fault is on, so their batches
 * land in on-failure/<consumer>.ndjson; the fault is removed; `ops redrive --local` brings every
 * record back — one consumer by re-invocation, the other by re-putting to the stream — and the
 * on-failure files are drained.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline-runner';
import { runCli } from '../../ops/cli';
import { definePipeline } from '../../pipeline/define-pipeline';
import { captureIo } from './helpers';

const EVENTS = 60;
const entry = 'test/ops/fixtures/switchable-consumer.ts';
const mapping = {
  startingPosition: 'TRIM_HORIZON',
  batchSize: 20,
  maximumRetryAttempts: 1,
  reportBatchItemFailures: true,
  onFailureDestination: 'queue',
} as const;

// The ops CLI resolves consumers from the definition it is given (here the test's, not the project's).
const definition = definePipeline({
  name: 'ops-e2e',
  streams: { orders: { capacity: { mode: 'PROVISIONED', shardCount: 2 } } },
  consumers: {
    // One retry: two deliveries, so poison isolation must act on the second (rule 13 <= retries + 1).
    invoked: { entry, stream: 'orders', timeoutSeconds: 10, mapping, poisonRecordAttempts: 2 },
    reputted: { entry, stream: 'orders', timeoutSeconds: 10, mapping, poisonRecordAttempts: 2 },
  },
});

let dataDir: string;
let pipeline: LocalPipeline;
let producedIds: Set<string>;

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '');
}
const effects = async (consumer: string) => new Set((await lines(join(dataDir, 'effects', `${consumer}.ndjson`))).map((l) => (JSON.parse(l) as { id: string }).id));

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ops-e2e-'));
  await mkdir(join(dataDir, 'faults'), { recursive: true });
  await writeFile(join(dataDir, 'faults', 'invoked'), '');
  await writeFile(join(dataDir, 'faults', 'reputted'), '');
  pipeline = await startLocalPipeline({
    definition,
    dataDir,
    rate: 200,
    events: EVENTS,
    invalidFraction: 0,
    seed: 8,
    esmTiming: { retryBaseDelayMs: 20, retryMaxDelayMs: 50, pollIntervalMs: 100 },
    refreshIntervalMs: 100,
  });
  expect(await pipeline.waitUntilAccounted(60_000)).toBe(true);
  producedIds = new Set<string>();
  // What the stream holds, read back with the CLI itself: the ids every consumer must end up handling.
  const { io, out } = captureIo();
  expect(await runCli(['tail', '--local', '--data-dir', dataDir, '--from', 'trim-horizon', '--until-caught-up', '--json', '--poll-interval-ms', '10'], { io, definition })).toBe(0);
  for (const line of out) producedIds.add((JSON.parse(line) as { id: string }).id);
}, 120_000);

afterAll(async () => {
  await pipeline?.stop({ drainTimeoutMs: 5_000 });
  await rm(dataDir, { recursive: true, force: true });
});

describe('ops redrive on the local runner', () => {
  it('the faults sent every batch to the on-failure files', async () => {
    expect(producedIds.size).toBe(EVENTS);
    expect(await effects('invoked')).toEqual(new Set());
    expect((await lines(join(dataDir, 'on-failure', 'invoked.ndjson'))).length).toBeGreaterThan(0);
    expect((await lines(join(dataDir, 'on-failure', 'reputted.ndjson'))).length).toBeGreaterThan(0);
  });

  it('--mode invoke, after the fault is removed: every record processed, the file drained', async () => {
    await rm(join(dataDir, 'faults', 'invoked'));
    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'invoked', '--local', '--data-dir', dataDir, '--mode', 'invoke'], { io, definition });
    expect(out.at(-1)).toMatch(/0 kept; 60 record\(s\) redriven, 0 already done, 0 known unrecoverable$/);
    expect(code).toBe(0);
    expect(await effects('invoked')).toEqual(producedIds);
    expect(await lines(join(dataDir, 'on-failure', 'invoked.ndjson'))).toEqual([]);
  });

  it('--mode reput, after the fault is removed: the records flow through the stream again, the file drained', async () => {
    await rm(join(dataDir, 'faults', 'reputted'));
    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'reputted', '--local', '--data-dir', dataDir, '--mode', 'reput'], { io, definition });
    expect(out.at(-1)).toMatch(/0 kept; 60 record\(s\) redriven, 0 already done, 0 known unrecoverable$/);
    expect(code).toBe(0);
    expect(await lines(join(dataDir, 'on-failure', 'reputted.ndjson'))).toEqual([]);
    // The running mapping reads the re-put records and the now healthy consumer handles each one.
    const all = await eventually(async () => {
      const seen = await effects('reputted');
      return [...producedIds].every((id) => seen.has(id));
    }, 30_000);
    expect(all).toBe(true);
  });

  it('status --local reads the running runner: mappings running, nothing left on-failure, the fault-time errors counted', async () => {
    const { io, out } = captureIo();
    const code = await runCli(['status', '--local', '--data-dir', dataDir], { io, definition });
    expect(out[0]).toContain(`local runner running (pid ${process.pid})`);
    for (const consumer of ['invoked', 'reputted']) {
      const row = out.find((l) => l.startsWith(consumer))!.split(/\s{2,}/);
      // CONSUMER MAPPING LAST-RESULT ITER-AGE ERR THR ON-FAIL QUAR ALARMS HEALTH
      expect(row[1]).toBe('running');
      expect(Number(row[4])).toBeGreaterThan(0); // invocations failed while the fault was on
      expect(row[6]).toBe('0');
      expect(row[7]).toBe('0');
    }
    expect(code).toBe(1); // the errors of the last hour make it unhealthy, as the Errors alarm would
  });
});
