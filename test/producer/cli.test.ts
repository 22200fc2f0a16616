/** The producer CLI, run as a process against kinesalite. */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureStream } from '../../kinesis/client';
import { createFixtures } from '../../schemas/fixtures';
import { registry } from '../../schemas/index';
import { eventId, idsByKey, readUserRecords, useKinesalite } from './helpers';
import { referenceDeaggregate, startsWithKplMagic } from '../support/kpl-reference';
import { readAllRecords } from '../support/read-stream';

const BIN = join(import.meta.dirname, '../../producers/bin/kinesis-produce.mjs');
const ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'warn' };

const kinesis = useKinesalite();
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'produce-cli-'));
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], stdin?: string, env: NodeJS.ProcessEnv = ENV): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function summary(stdout: string): Record<string, number> {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return Object.fromEntries(lines[0]!.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
}

describe('kinesis-produce', () => {
  it('generates events with an invalid share: the invalid ones are written too (for quarantine to catch), exit 0', async () => {
    const rejects = join(dir, 'rejects.ndjson');
    const r = await run([
      '--stream', 'gen', '--endpoint', kinesis.endpoint, '--create-stream', '--shards', '2',
      '--generate', '300', '--invalid-fraction', '0.1', '--aggregate', '--rejects', rejects,
    ]);
    expect(r.code).toBe(0);
    const s = summary(r.stdout);
    expect(s).toMatchObject({ sent: 300, rejected: 0, failed: 0 });
    expect(s['invalid_sent']).toBeGreaterThan(0);
    expect(readFileSync(rejects, 'utf8')).toBe('');
    const stored = await readUserRecords(kinesis.client, 'gen');
    expect(stored).toHaveLength(300);
    // What reached the stream: exactly invalid_sent records that break their contract.
    const invalid = stored.filter((u) => !registry.safeParse(JSON.parse(Buffer.from(u.data).toString('utf8'))).ok);
    expect(invalid).toHaveLength(s['invalid_sent']!);
    // --aggregate: the stream holds KPL aggregates, each carrying several of the sent events (read by aws-kinesis-agg).
    const raw = await readAllRecords(kinesis.client, 'gen');
    const perRecord = raw.map((r) => referenceDeaggregate(r).length);
    expect(perRecord.reduce((a, b) => a + b, 0)).toBe(s['sent']!);
    expect(raw.length).toBeLessThan(s['sent']! / 5);
    for (const [i, r] of raw.entries()) if (perRecord[i]! > 1) expect(startsWithKplMagic(r.data)).toBe(true);
  });

  it('reports each bad line of a file with its line number and sends every other line', async () => {
    const good = createFixtures({ seed: 19 }).take(30);
    const longKey = { ...createFixtures({ seed: 20 }).orderPaid(), data: { ...good[0]!.data, orderId: `o${'x'.repeat(300)}` } };
    const lines = good.map((e) => JSON.stringify(e));
    lines.splice(2, 0, '{"type": "order.paid", truncated');
    lines.splice(5, 0, '');
    lines.splice(9, 0, '[1, 2, 3]');
    lines.splice(14, 0, JSON.stringify(longKey));
    lines.splice(20, 0, 'null');
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await run(['--stream', 'mixed', '--endpoint', kinesis.endpoint, '--create-stream', '--file', file, '--aggregate']);
    expect(r.code).toBe(1);
    expect(summary(r.stdout)).toMatchObject({ sent: 30, rejected: 4, failed: 0 });
    const reported = r.stderr.split('\n').filter((l) => /^line \d+: /.test(l)).map((l) => l.split(':').slice(0, 2).join(':'));
    expect(reported.sort()).toEqual(['line 15: EVENT_INVALID', 'line 21: EVENT_INVALID', 'line 3: NOT_JSON', 'line 10: EVENT_INVALID'].sort());
    const stored = await readUserRecords(kinesis.client, 'mixed');
    expect(stored.map((u) => eventId(u.data)).sort()).toEqual(good.map((e) => e.id).sort());
  });

  it('puts an NDJSON file (per-key order kept with --ordered) and exits 0', async () => {
    const events = createFixtures({ seed: 17 }).take(50);
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const r = await run(['--stream', 'file', '--endpoint', kinesis.endpoint, '--create-stream', '--file', file, '--ordered']);
    expect(r.code).toBe(0);
    expect(summary(r.stdout)).toMatchObject({ sent: 50, failed: 0, rejected: 0 });
    const stored = await readUserRecords(kinesis.client, 'file');
    expect(idsByKey(stored.map((u) => ({ key: u.partitionKey, id: eventId(u.data) })))).toEqual(
      idsByKey(events.map((e) => ({ key: e.data.orderId, id: e.id }))),
    );
    expect(stored).toHaveLength(50);
  });

  it('reads stdin and names the line of each bad record on stderr', async () => {
    const good = createFixtures({ seed: 18 }).orderPaid();
    const r = await run(['--stream', 'stdin', '--endpoint', kinesis.endpoint, '--create-stream'], `${JSON.stringify(good)}\nnot json\n{"type":"order.paid"}\n`);
    expect(r.code).toBe(1);
    expect(summary(r.stdout)).toMatchObject({ sent: 1, rejected: 2 });
    expect(r.stderr).toContain('line 2: NOT_JSON');
    expect(r.stderr).toContain('line 3: EVENT_INVALID');
  });

  it('counts delivery failures and exits 1 when the stream does not exist; generated events are named by number, not line', async () => {
    const r = await run(['--stream', 'missing', '--endpoint', kinesis.endpoint, '--generate', '5']);
    expect(r.code).toBe(1);
    expect(summary(r.stdout)).toMatchObject({ sent: 0, failed: 5 });
    expect(r.stderr).toContain('ResourceNotFoundException');
    expect(r.stderr).toMatch(/^event 1: DELIVERY_FAILED: /m);
    expect(r.stderr).not.toMatch(/line \d/);
  });

  it('without credentials (AWS target) fails at once with the fix, before sending anything', async () => {
    const home = mkdtempSync(join(tmpdir(), 'no-aws-'));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    // No instance metadata service here; the SDK would otherwise spend seconds probing for it.
    env['AWS_EC2_METADATA_DISABLED'] = 'true';
    const r = await run(['--stream', 'orders-dev-orders', '--generate', '5'], undefined, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^kinesis-produce: no AWS credentials found \(.+\)\. Set AWS_PROFILE .* use --local/);
    expect(r.stderr).not.toMatch(/DELIVERY_FAILED|CredentialsProviderError:|\n\s+at /);
  });

  describe('--local: the pipeline npm start runs, found through runner.json', () => {
    function runnerDir(runner: Record<string, unknown>): string {
      const dataDir = mkdtempSync(join(tmpdir(), 'produce-local-'));
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'runner.json'), JSON.stringify(runner));
      return dataDir;
    }

    it('puts the shipped sample file into the runner stream (README command)', async () => {
      await ensureStream(kinesis.client, { name: 'local-orders', shardCount: 2 });
      const dataDir = runnerDir({
        pid: process.pid,
        state: 'running',
        kinesisEndpoint: kinesis.endpoint,
        region: 'us-east-1',
        streams: { orders: { arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/local-orders', shards: [] } },
        consumers: {},
      });
      const sample = join(import.meta.dirname, '../../samples/orders.ndjson');
      const events = readFileSync(sample, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string });
      for (const e of events) expect(registry.safeParse(e).ok).toBe(true);
      const r = await run(['--local', '--data-dir', dataDir, '--file', sample]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(summary(r.stdout)).toMatchObject({ sent: events.length, rejected: 0 });
      const stored = await readUserRecords(kinesis.client, 'local-orders');
      expect(stored.map((u) => eventId(u.data)).sort()).toEqual(events.map((e) => e.id).sort());
    });

    it('says how to start the runner when there is none, or it is gone, and refuses --endpoint with it', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'produce-local-none-'));
      const none = await run(['--local', '--data-dir', empty, '--generate', '1']);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no local runner found: .*runner\.json does not exist \(start it with `npm start`/);
      const gone = runnerDir({ pid: 2 ** 22 + 12345, state: 'running', kinesisEndpoint: 'http://127.0.0.1:1', region: 'us-east-1', streams: {} });
      expect(existsSync(join(gone, 'runner.json'))).toBe(true);
      const stale = await run(['--local', '--data-dir', gone, '--generate', '1']);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toMatch(/is not running .* start it with `npm start`/);
      const both = await run(['--local', '--endpoint', kinesis.endpoint, '--generate', '1']);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--endpoint and --local exclude each other');
    });
  });

  it('rejects bad usage with exit 2', async () => {
    const r = await run(['--generate', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--stream is required');
    const r2 = await run(['--stream', 's', '--generate', 'many']);
    expect(r2.code).toBe(2);
    // StreamName rule (1-128 of [a-zA-Z0-9_.-]), checked before anything is created or sent.
    const r3 = await run(['--stream', 'orders!', '--endpoint', kinesis.endpoint, '--create-stream', '--generate', '1']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('--stream "orders!" is not a Kinesis stream name');
  });

  it('runs through npm run produce too', async () => {
    const out = await new Promise<Run>((resolve) =>
      execFile('npm', ['run', '-s', 'produce', '--', '--stream', 'npm', '--endpoint', kinesis.endpoint, '--create-stream', '--generate', '20'], { env: ENV, cwd: join(import.meta.dirname, '../..') }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(out.code).toBe(0);
    expect(summary(out.stdout)).toMatchObject({ sent: 20 });
  });
});
