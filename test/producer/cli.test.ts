/** The producer CLI, run as a process against kinesalite. */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
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

function run(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: ENV });
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
  it('generates events with an invalid share: valid ones written, invalid ones kept in --rejects, exit 1', async () => {
    const rejects = join(dir, 'rejects.ndjson');
    const r = await run([
      '--stream', 'gen', '--endpoint', kinesis.endpoint, '--create-stream', '--shards', '2',
      '--generate', '300', '--invalid-fraction', '0.1', '--aggregate', '--rejects', rejects,
    ]);
    expect(r.code).toBe(1);
    const s = summary(r.stdout);
    expect(s['sent']! + s['rejected']!).toBe(300);
    expect(s['rejected']).toBeGreaterThan(0);
    expect(s['failed']).toBe(0);
    const kept = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; code: string; event: unknown });
    expect(kept).toHaveLength(s['rejected']!);
    for (const k of kept) {
      expect(k.code).toBe('EVENT_INVALID');
      expect(k.event).toBeTypeOf('object');
    }
    expect(await readUserRecords(kinesis.client, 'gen')).toHaveLength(s['sent']!);
    // --aggregate: the stream holds KPL aggregates, each carrying several of the sent events (read by aws-kinesis-agg).
    const raw = await readAllRecords(kinesis.client, 'gen');
    const perRecord = raw.map((r) => referenceDeaggregate(r).length);
    expect(perRecord.reduce((a, b) => a + b, 0)).toBe(s['sent']!);
    expect(raw.length).toBeLessThan(s['sent']! / 5);
    for (const [i, r] of raw.entries()) if (perRecord[i]! > 1) expect(startsWithKplMagic(r.data)).toBe(true);
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

  it('counts delivery failures and exits 1 when the stream does not exist', async () => {
    const r = await run(['--stream', 'missing', '--endpoint', kinesis.endpoint, '--generate', '5']);
    expect(r.code).toBe(1);
    expect(summary(r.stdout)).toMatchObject({ sent: 0, failed: 5 });
    expect(r.stderr).toContain('ResourceNotFoundException');
  });

  it('rejects bad usage with exit 2', async () => {
    const r = await run(['--generate', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--stream is required');
    const r2 = await run(['--stream', 's', '--generate', 'many']);
    expect(r2.code).toBe(2);
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
