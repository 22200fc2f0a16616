/**
 * Producer benchmark (npm run bench:producer), all against kinesalite in one run:
 *   ceiling    the emulator's own PutRecords ceiling: pre-built 500-record requests in a tight loop
 *              with the producer's concurrency (no batching, validation or bookkeeping cost)
 *   naive      one awaited PutRecord per event (the baseline people write first)
 *   producer   KinesisProducer without aggregation
 *   aggregated KinesisProducer with KPL aggregation
 * for ~1 KiB events (valid order.placed events through put(): validation included) and 100-byte
 * records (raw through putRecord(): no contract is that small).
 *
 * kinesalite runs in a child process (a fresh one per scenario, so stored data never slows a later
 * scenario), so the client CPU measured here (process.cpuUsage) is the producer's alone.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { PutRecordCommand, PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream } from '../kinesis/client';
import { KinesisProducer } from '../producers/index';
import { checkPartitionKey, checkRecordSize, DEFAULT_MAX_RECORD_BYTES, parseExplicitHashKey, recordBytes } from '../producers/limits';
import { createFixtures } from '../schemas/fixtures';
import { registry, type OrderEvent } from '../schemas/index';
import { createLogger } from '../telemetry/logger';
import { startKinesaliteProcess } from './support';

const SHARDS = 4;
const CONCURRENCY = 8;
const STREAM = 'bench';
const QUICK = process.argv.includes('--quick');
const scale = QUICK ? 0.2 : 1;

interface Result {
  scenario: string;
  size: string;
  userRecords: number;
  seconds: number;
  userRecordsPerSec: number;
  kinesisRecords: number;
  requests: number;
  clientCpuMsPer1000: number;
  emulatorCpuSeconds: number;
}

/** utime + stime of a process in seconds (Linux /proc); 0 elsewhere. */
function processCpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

async function measure(
  scenario: string,
  size: string,
  userRecords: number,
  run: (client: KinesisClient, endpoint: string) => Promise<{ kinesisRecords: number; requests: number }>,
): Promise<Result> {
  const emulator = await startKinesaliteProcess();
  const client = createKinesisClient({ endpoint: emulator.endpoint, maxAttempts: 1 });
  await ensureStream(client, { name: STREAM, shardCount: SHARDS });
  const emuCpu0 = processCpuSeconds(emulator.child.pid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { kinesisRecords, requests } = await run(client, emulator.endpoint);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const emulatorCpuSeconds = processCpuSeconds(emulator.child.pid) - emuCpu0;
  client.destroy();
  await emulator.stop();
  const result: Result = {
    scenario,
    size,
    userRecords,
    seconds,
    userRecordsPerSec: userRecords / seconds,
    kinesisRecords,
    requests,
    clientCpuMsPer1000: ((cpu.user + cpu.system) / 1000 / userRecords) * 1000,
    emulatorCpuSeconds,
  };
  process.stderr.write(
    `${scenario.padEnd(40)} ${size.padEnd(6)} ${Math.round(result.userRecordsPerSec).toString().padStart(7)} rec/s  ` +
      `${(kinesisRecords / requests).toFixed(1).padStart(6)} kin/req  ${result.clientCpuMsPer1000.toFixed(1).padStart(6)} ms CPU/1000  ` +
      `emulator CPU ${(emulatorCpuSeconds / seconds * 100).toFixed(0)}%\n`,
  );
  return result;
}

// ---------------------------------------------------------------- workloads

interface Workload {
  size: string;
  /** Pre-built request entries (for the ceiling). */
  entries: PutRecordsRequestEntry[];
  /** What the producer is given. */
  put(producer: KinesisProducer, i: number): Promise<unknown>;
  /** The same bytes through putRecord (no validation), when `put` validates. */
  putRaw?: (producer: KinesisProducer, i: number) => Promise<unknown>;
  count: number;
}

function kibEvents(count: number): { events: OrderEvent[]; bytes: number } {
  const f = createFixtures({ seed: 42 });
  const events: OrderEvent[] = [];
  for (let i = 0; i < count; i++) events.push(f.orderPlaced({ lines: i % 2 === 0 ? 10 : 11 }));
  const bytes = events.reduce((s, e) => s + JSON.stringify(e).length, 0) / count;
  return { events, bytes };
}

function workloads(): Workload[] {
  const kibCount = Math.round(12_000 * scale);
  const { events, bytes } = kibEvents(kibCount);
  process.stderr.write(`1 KiB events: order.placed with 10-11 lines, mean ${Math.round(bytes)} bytes of JSON\n`);
  const serialized = events.map((e) => Buffer.from(JSON.stringify(e)));
  const smallCount = Math.round(20_000 * scale);
  const payload = new Uint8Array(100).fill(0x61);
  const smallKeys = Array.from({ length: 5000 }, (_, i) => `key-${i}`);
  return [
    {
      size: '1 KiB',
      count: kibCount,
      entries: events.map((e) => ({ PartitionKey: e.data.orderId, Data: Buffer.from(JSON.stringify(e)) })),
      put: (p, i) => p.put(events[i]),
      putRaw: (p, i) => p.putRecord({ partitionKey: events[i]!.data.orderId, data: serialized[i]! }),
    },
    {
      size: '100 B',
      count: smallCount,
      entries: Array.from({ length: smallCount }, (_, i) => ({ PartitionKey: smallKeys[i % smallKeys.length]!, Data: payload })),
      put: (p, i) => p.putRecord({ partitionKey: smallKeys[i % smallKeys.length]!, data: payload }),
    },
  ];
}

async function ceiling(w: Workload): Promise<Result> {
  const requests: PutRecordsCommand[] = [];
  for (let i = 0; i < w.entries.length; i += 500) {
    requests.push(new PutRecordsCommand({ StreamName: STREAM, Records: w.entries.slice(i, i + 500) }));
  }
  return measure('ceiling', w.size, w.entries.length, async (client) => {
    let next = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const out = await client.send(requests[next++]!);
          failed += out.FailedRecordCount ?? 0;
        }
      }),
    );
    if (failed > 0) throw new Error(`ceiling run had ${failed} failed records`);
    return { kinesisRecords: w.entries.length, requests: requests.length };
  });
}

async function naive(w: Workload): Promise<Result> {
  const count = Math.min(w.count, Math.round(1500 * scale));
  return measure('naive', w.size, count, async (client) => {
    for (let i = 0; i < count; i++) {
      const e = w.entries[i]!;
      await client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: e.PartitionKey!, Data: e.Data! }));
    }
    return { kinesisRecords: count, requests: count };
  });
}

async function producerRun(w: Workload, aggregation: boolean, raw = false): Promise<Result> {
  const name = `${aggregation ? 'aggregated' : 'producer'}${raw ? ' (putRecord, no validation)' : w.putRaw ? ' (put, validated)' : ''}`;
  const put = raw && w.putRaw ? w.putRaw : w.put;
  return measure(name, w.size, w.count, async (_client, endpoint) => {
    const producer = new KinesisProducer({
      streamName: STREAM,
      endpoint,
      aggregation,
      maxInFlightRequests: CONCURRENCY,
      logger: createLogger({ name: 'bench', level: 'warn' }),
    });
    const puts: Promise<unknown>[] = new Array(w.count);
    for (let i = 0; i < w.count; i++) {
      puts[i] = put(producer, i);
      // Yield now and then, as a real service would between requests, so batches go out while
      // later events are produced (and the bounded buffer's backpressure applies).
      if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(puts);
    await producer.close();
    const s = producer.stats();
    if (s.written !== w.count) throw new Error(`producer wrote ${s.written} of ${w.count}`);
    return { kinesisRecords: s.kinesisRecordsWritten, requests: s.requests };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Run extends Result {
  round: number;
}

/** Per (size, scenario): medians over rounds; the ratio to the ceiling is taken within each round. */
interface Summary {
  size: string;
  scenario: string;
  runs: number;
  rate: number;
  minRate: number;
  maxRate: number;
  vsCeiling: number;
  minVsCeiling: number;
  maxVsCeiling: number;
  kinesisPerRequest: number;
  userPerKinesis: number;
  cpuPer1000: number;
  emulatorCpu: number;
}

function summarise(runs: Run[]): Summary[] {
  const keys = [...new Set(runs.map((r) => `${r.size}|${r.scenario}`))];
  return keys.map((key) => {
    const mine = runs.filter((r) => `${r.size}|${r.scenario}` === key);
    const ratios = mine.flatMap((r) => {
      const ceil = runs.find((c) => c.scenario === 'ceiling' && c.size === r.size && c.round === r.round);
      return ceil ? [r.userRecordsPerSec / ceil.userRecordsPerSec] : [];
    });
    const rates = mine.map((r) => r.userRecordsPerSec);
    const sum = (f: (r: Run) => number) => mine.reduce((s, r) => s + f(r), 0);
    return {
      size: mine[0]!.size,
      scenario: mine[0]!.scenario,
      runs: mine.length,
      rate: median(rates),
      minRate: Math.min(...rates),
      maxRate: Math.max(...rates),
      vsCeiling: ratios.length ? median(ratios) : Number.NaN,
      minVsCeiling: ratios.length ? Math.min(...ratios) : Number.NaN,
      maxVsCeiling: ratios.length ? Math.max(...ratios) : Number.NaN,
      kinesisPerRequest: sum((r) => r.kinesisRecords) / sum((r) => r.requests),
      userPerKinesis: sum((r) => r.userRecords) / sum((r) => r.kinesisRecords),
      cpuPer1000: median(mine.map((r) => r.clientCpuMsPer1000)),
      emulatorCpu: sum((r) => r.emulatorCpuSeconds) / sum((r) => r.seconds),
    };
  });
}

function table(rows: Summary[]): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const body = rows.map((r) => {
    const naive = rows.find((c) => c.scenario === 'naive' && c.size === r.size)!;
    const ratio = Number.isNaN(r.vsCeiling) ? 'n/a' : `${r.vsCeiling.toFixed(2)} (${r.minVsCeiling.toFixed(2)}-${r.maxVsCeiling.toFixed(2)})`;
    return (
      `| ${r.size} | ${r.scenario} | ${n(r.rate)} (${n(r.minRate)}-${n(r.maxRate)}) | ${ratio} | ${(r.rate / naive.rate).toFixed(1)} | ` +
      `${r.kinesisPerRequest.toFixed(1)} | ${r.userPerKinesis.toFixed(1)} | ${r.cpuPer1000.toFixed(1)} | ${Math.round(r.emulatorCpu * 100)}% |`
    );
  });
  return [
    '| size | scenario | user records/s, median (min-max) | x ceiling, same round, median (min-max) | x naive | Kinesis records/request | user records/Kinesis record | client CPU ms/1000 user records | emulator CPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...body,
  ].join('\n');
}

const ROUNDS = QUICK ? 1 : 5;

async function main(): Promise<void> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  process.stderr.write(`cores ${availableParallelism()}, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  const runs: Run[] = [];
  const loads = workloads();
  // Warm-up (JIT, sockets) on a throwaway emulator; not reported.
  await producerRun({ ...loads[1]!, count: 5000 }, false);
  for (const w of loads) runs.push({ ...(await naive(w)), round: -1 });
  // Rounds of back-to-back runs, order rotated per round: machine noise (2 shared cores) hits every
  // scenario alike, and each scenario is compared with the ceiling measured in its own round.
  for (let round = 0; round < ROUNDS; round++) {
    for (const w of loads) {
      const scenarios = [
        () => ceiling(w),
        () => producerRun(w, false),
        ...(w.putRaw ? [() => producerRun(w, false, true)] : []),
        () => producerRun(w, true),
      ];
      for (let k = 0; k < scenarios.length; k++) runs.push({ ...(await scenarios[(k + round) % scenarios.length]!()), round });
    }
  }
  // What put() adds over putRecord(): one registry parse and one JSON.stringify per event, measured alone.
  const sample = kibEvents(Math.min(loads[0]!.count, 10_000)).events;
  const v0 = process.cpuUsage();
  for (const e of sample) JSON.stringify((registry.safeParse(e) as { event: unknown }).event);
  const v = process.cpuUsage(v0);
  // What the admission checks of every field Kinesis validates cost (producers/limits.ts), measured
  // alone: partition key (type, length, Unicode), record size, and a 39-digit explicit hash key.
  const keys = sample.map((e) => e.data.orderId);
  const hashKeys = sample.map((_, i) => ((1n << 128n) - 1n - BigInt(i) * 7919n).toString());
  const c0 = process.cpuUsage();
  for (let r = 0; r < 10; r++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      checkPartitionKey(key);
      checkRecordSize(recordBytes(1000, key), DEFAULT_MAX_RECORD_BYTES);
      parseExplicitHashKey(hashKeys[i]);
    }
  }
  const c = process.cpuUsage(c0);
  const order = ['ceiling', 'naive', 'producer (put, validated)', 'producer (putRecord, no validation)', 'producer', 'aggregated (put, validated)', 'aggregated'];
  const rows = summarise(runs).sort(
    (a, b) => loads.findIndex((w) => w.size === a.size) - loads.findIndex((w) => w.size === b.size) || order.indexOf(a.scenario) - order.indexOf(b.scenario),
  );
  process.stdout.write(`${table(rows)}\n\n`);
  process.stdout.write(`validation + serialisation alone: ${(((v.user + v.system) / 1000 / sample.length) * 1000).toFixed(1)} ms CPU per 1000 1-KiB events\n`);
  process.stdout.write(
    `Kinesis field checks alone (key, size, 39-digit explicit hash key): ${(((c.user + c.system) / 1000 / (keys.length * 10)) * 1000).toFixed(2)} ms CPU per 1000 records\n`,
  );
  process.stdout.write(`load average at end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
}

await main();
