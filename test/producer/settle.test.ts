/**
 * "Every put settles": every kind of bad input is rejected with its typed error before it is
 * admitted, good records put beside it are written, flush()/close() resolve, and nothing becomes an
 * unhandled rejection: run in a child process under `--unhandled-rejections=strict` (where one would
 * crash it), with aggregation off and on (bad input arriving before the shard map has loaded too).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureStream } from '../../kinesis/client';
import { badInputs, goodInputs } from './bad-inputs';
import { readUserRecords, uniqueStreamName, useKinesalite } from './helpers';

const kinesis = useKinesalite();
const SCRIPT = join(import.meta.dirname, 'settle-script.ts');

interface Outcome {
  label: string;
  status: 'fulfilled' | 'rejected';
  code?: string;
  name?: string;
}

interface Report {
  hung?: boolean;
  outcomes: Outcome[];
  bufferedWhileSending: number;
  stats: { accepted: number; written: number; failed: number; buffered: number; inFlightRequests: number }[];
}

function runScript(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--unhandled-rejections=strict', '--import', 'tsx', SCRIPT], {
      env: { ...process.env, ...env },
      cwd: join(import.meta.dirname, '../..'),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.each([{ aggregation: false }, { aggregation: true }])('every put settles (aggregation=$aggregation)', ({ aggregation }) => {
  it('rejects each bad input with its typed error, writes the good ones, flush/close resolve, no unhandled rejection', async () => {
    const stream = uniqueStreamName('settle');
    await ensureStream(kinesis.client, { name: stream, shardCount: 2 });
    const run = await runScript({ KINESIS_ENDPOINT: kinesis.endpoint, STREAM: stream, AGGREGATION: String(aggregation) });
    expect(run.stderr).not.toMatch(/unhandled|Error:/i);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Report;
    expect(report.hung).toBeUndefined();

    const byLabel = new Map(report.outcomes.map((o) => [o.label, o]));
    const bad = badInputs();
    expect(bad.length).toBeGreaterThan(40);
    for (const b of bad) {
      for (const label of [b.label, `again: ${b.label}`]) {
        expect(byLabel.get(label), label).toMatchObject({ status: 'rejected', code: b.code });
      }
    }
    const good = goodInputs();
    good.forEach((_, i) => expect(byLabel.get(`good ${i}`), `good ${i}`).toMatchObject({ status: 'fulfilled' }));
    for (const label of ['put after close', 'putRecord after close', 'lenient put after close']) {
      expect(byLabel.get(label)).toMatchObject({ status: 'rejected', code: 'PRODUCER_CLOSED' });
    }
    // Only the good records were ever admitted, and all of them were written.
    const [strict, lenient] = report.stats;
    expect(strict!.accepted + lenient!.accepted).toBe(good.length);
    expect(strict!.written + lenient!.written).toBe(good.length);
    expect(report.stats.every((s) => s.buffered === 0 && s.failed === 0 && s.inFlightRequests === 0)).toBe(true);
    expect(report.bufferedWhileSending).toBeLessThanOrEqual(good.length);
    expect(await readUserRecords(kinesis.client, stream)).toHaveLength(good.length);
  });
});
