/**
 * FilePublishLedger across real processes (the local runner's workers are processes): claims and
 * take-overs of one window by several processes released at the same moment; exactly one wins.
 * The shared ledger semantics are in publish-ledger-contract.test.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePublishLedger } from '../../consumers/order-metrics/file-publish-ledger';

const CLAIMANT = fileURLToPath(new URL('./support/file-ledger-claimant.ts', import.meta.url));
const KEY = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders|shardId-000000000000|2026-03-02T10:00:00Z|2026-03-02T10:01:00Z';
const T0 = Date.parse('2026-03-02T10:01:05Z');
const PROCESSES = 4;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts the claimants, waits until every one is loaded, releases them together, returns their outcomes. */
async function race(clockMs: number): Promise<string[]> {
  const children: ChildProcessWithoutNullStreams[] = [];
  const outputs: Promise<string>[] = [];
  const ready: Promise<unknown>[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CLAIMANT, dir, KEY, String(clockMs), '60000'], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    ready.push(iterator.next());
    outputs.push(
      (async () => {
        const [code] = (await once(child, 'exit')) as [number];
        if (code !== 0) throw new Error(`claimant exited with ${code}`);
        const rest: string[] = [];
        for await (const line of { [Symbol.asyncIterator]: () => iterator }) rest.push(line);
        return (JSON.parse(rest.at(-1)!) as { outcome: string }).outcome;
      })(),
    );
  }
  await Promise.all(ready);
  for (const child of children) child.stdin.end('go\n');
  return Promise.all(outputs);
}

describe('FilePublishLedger across processes', () => {
  it('of processes claiming a free window at the same moment exactly one wins', async () => {
    const outcomes = await race(T0);
    expect(outcomes.sort()).toEqual(['claimed', ...Array(PROCESSES - 1).fill('held-by-other')]);
  });

  it('of processes taking over an expired claim at the same moment exactly one wins; nobody overwrote anybody', async () => {
    const dead = await new FilePublishLedger(dir, { clock: () => new Date(T0), leaseMs: 1_000 }).claim(KEY);
    expect(dead.outcome).toBe('claimed');
    const outcomes = await race(T0 + 1_001);
    expect(outcomes.sort()).toEqual(['claimed', ...Array(PROCESSES - 1).fill('held-by-other')]);
    // Two generations: the dead claim and the one take-over; no temp file left behind.
    expect((await readdir(dir)).map((f) => f.replace(/^[0-9a-f]{64}/, '<key>')).sort()).toEqual(['<key>.0.json', '<key>.1.json']);
  });
});
