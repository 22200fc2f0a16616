/**
 * Consumer runtime benchmark (issue 3): 10,000-record batches of ~1 KiB `order.placed` events,
 * validation on, no-op handler; every contender (bench/consumer-contenders.ts) in the same process and
 * run, interleaved:
 *   floor           base64 decode + JSON.parse + zod safeParse of the same records (nothing else)
 *   floor-compiled  the same with the contract compiled by z.compile (what the registry validates with)
 *   decode-only     base64 + JSON.parse, no validation: the least any consumer of JSON records must do
 *   runtime         createKinesisHandler with its defaults (idempotency LRU, quarantine sink, EMF, pino)
 *   runtime-uncompiled  the same handler on a registry built with { compiled: false }
 *   zod-only / compiled-only  validation alone (safeParse of already parsed records), regular vs compiled
 *   pt-zod          @aws-lambda-powertools/batch BatchProcessor, the same zod schema called by hand in the
 *                   record handler, parallel (its default) and sequential (+ parallel with z.compile)
 *   pt-parser       BatchProcessor with its parser integration (innerSchema = the same zod schema,
 *                   transformer 'base64'), parallel and sequential
 *
 * Method. Each contender lives in its own worker thread of this process (its own V8 isolate and
 * heap), built once like a Lambda container; the main thread builds each round's batch (a fresh one
 * per round: new event ids, as a warm container sees successive batches), hands it to every contender
 * in turn (rotating order) and waits, so only one contender runs at a time. Separate isolates keep one
 * contender's garbage and JIT state from slowing another: the parser integration builds a zod schema
 * per record and used to slow whatever ran after it in a shared heap (BENCH_SHARED_ISOLATE=1 hosts all
 * contenders in one worker, the old way, for comparison). Timed: `run` only. CPU = process.cpuUsage
 * (user + system, all threads, so GC helper threads count), wall = performance.now; medians over the
 * rounds. Heap: afterwards, each contender in a fresh isolate whose young generation (BENCH_HEAP_YOUNG_MB,
 * 1024) holds a batch's garbage without a collection: used-heap growth over one batch after a warm-up
 * batch and a forced GC = bytes allocated (shown as a lower bound with the GC count when GCs ran), and
 * what is still held after a forced GC = bytes retained.
 *
 * Run: npm run bench:consumer   (env BENCH_RUNS (15), BENCH_SLOW_RUNS (3, for pt-parser), BENCH_RECORDS
 * (10000), BENCH_GC_BETWEEN=1 forces a GC before each timed run, BENCH_SKIP_SLOW=1 leaves pt-parser and
 * the DynamoDB contender out, BENCH_SHARED_ISOLATE=1 as above, BENCH_ONLY="name|name" runs only those)
 *
 * Durable idempotency (issue 12): `runtime + claims in memory` runs the claim path (IN_PROGRESS, then
 * COMPLETED) on MemoryDurableStore, `runtime + DynamoDB claims` on DynamoDbDurableStore against
 * dynalite started in the main thread (two conditional writes per record over HTTP on loopback; on
 * AWS each write is a network round trip to DynamoDB, not measured here).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import dynalite from 'dynalite';
import { Worker } from 'node:worker_threads';
import {
  CONTENDER_NAMES,
  COMPILED_ONLY,
  DYNAMODB_ENDPOINT_VARIABLE,
  RUNTIME_DYNAMODB,
  RUNTIME_MEMORY_CLAIMS,
  DECODE_ONLY,
  FLOOR,
  FLOOR_COMPILED,
  PT_PARSER_PARALLEL,
  PT_PARSER_SEQUENTIAL,
  PT_ZOD_PARALLEL,
  PT_ZOD_SEQUENTIAL,
  RUNTIME,
  SLOW_NAMES,
  ZOD_ONLY,
  makeBatch,
} from './consumer-contenders';
import type { RunRequest, RunResult } from './consumer-worker';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 10_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const SLOW_RUNS = Number(process.env['BENCH_SLOW_RUNS'] ?? 3);
const GC_BETWEEN = process.env['BENCH_GC_BETWEEN'] === '1';
const SHARED = process.env['BENCH_SHARED_ISOLATE'] === '1';
const ONLY = process.env['BENCH_ONLY']?.split('|').map((n) => n.trim()).filter(Boolean);
const NAMES = (ONLY ?? CONTENDER_NAMES).filter((n) => process.env['BENCH_SKIP_SLOW'] !== '1' || !SLOW_NAMES.has(n));

/** Young generation of the heap-measurement isolates (MB): room for a batch's garbage without a GC. */
const HEAP_YOUNG_GENERATION_MB = Number(process.env['BENCH_HEAP_YOUNG_MB'] ?? 1024);
const WORKER_URL = new URL('./consumer-worker.ts', import.meta.url).href;

/** A worker isolate hosting some contenders; `run` times one batch in it. */
class Host {
  private readonly worker: Worker;
  private pending: { resolve: (r: RunResult) => void; reject: (e: Error) => void } | undefined;

  constructor(names: readonly string[], youngGenerationMb?: number) {
    // A worker does not inherit tsx's loader: it registers it, then loads the TypeScript entry.
    const bootstrap = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_URL)}, ${JSON.stringify(import.meta.url)}))`;
    this.worker = new Worker(bootstrap, {
      eval: true,
      workerData: { names },
      ...(youngGenerationMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } } : {}),
    });
    this.worker.on('message', (message: RunResult | { error: string }) => {
      const pending = this.pending;
      this.pending = undefined;
      if ('error' in message) pending?.reject(new Error(message.error));
      else pending?.resolve(message);
    });
    this.worker.on('error', (error) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    });
  }

  run(request: RunRequest): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(request);
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

interface Samples {
  wall: number[];
  cpu: number[];
  heap?: { allocated: number; retained: number; gcs: number };
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  process.stdout.write(
    `consumer benchmark: ${RECORDS}-record batches, node ${process.version}, ${RUNS} rounds (pt-parser: ${SLOW_RUNS}), ` +
      `${SHARED ? 'all contenders in one isolate' : 'one isolate per contender'}${GC_BETWEEN ? ', forced GC before each timed run' : ''}` +
      `${(globalThis as { gc?: unknown }).gc ? '' : ' [run with --expose-gc for heap figures]'}\n`,
  );
  // dynalite for the DynamoDB contender runs here, in the main thread, so its work is not the contender's CPU.
  const dynamo = NAMES.includes(RUNTIME_DYNAMODB) ? await startBenchDynalite() : undefined;
  if (dynamo) process.env[DYNAMODB_ENDPOINT_VARIABLE] = dynamo.endpoint;
  const shared = SHARED ? new Host(NAMES) : undefined;
  const hosts = new Map(NAMES.map((name) => [name, shared ?? new Host([name])]));
  const samples = new Map<string, Samples>(NAMES.map((name) => [name, { wall: [], cpu: [] }]));
  let seed = 1;
  let meanJsonBytes = 0;
  try {
    // Warm-up round (not recorded), then the timed rounds.
    for (let round = -1; round < RUNS; round++) {
      const batch = makeBatch(seed++, RECORDS);
      meanJsonBytes = batch.meanJsonBytes;
      for (let k = 0; k < NAMES.length; k++) {
        const name = NAMES[(k + Math.max(0, round)) % NAMES.length]!;
        if (round >= SLOW_RUNS && SLOW_NAMES.has(name)) continue;
        const result = await hosts.get(name)!.run({ name, batch: batch.event, gcFirst: GC_BETWEEN, heap: false });
        if (round < 0) continue;
        const s = samples.get(name)!;
        s.wall.push(result.wall);
        s.cpu.push(result.cpu);
      }
      if (round >= 0) process.stderr.write(`round ${round + 1}/${RUNS} done\n`);
    }
  } finally {
    await Promise.all([...new Set(hosts.values())].map((h) => h.stop()));
  }
  if ((globalThis as { gc?: unknown }).gc) {
    // Heap: a fresh isolate per contender with a young generation large enough that a batch's garbage
    // usually fits without a collection, so heap growth over the batch is what it allocates (the
    // GC count says when it was not); one warm-up batch, then the measured one.
    // New isolates read V8's heap flags when they are created: start their young generation at full size.
    setFlagsFromString(`--min-semi-space-size=${Math.floor(HEAP_YOUNG_GENERATION_MB / 3)}`);
    const warm = makeBatch(seed++, RECORDS);
    const measured = makeBatch(seed++, RECORDS);
    for (const name of NAMES) {
      const host = new Host([name], HEAP_YOUNG_GENERATION_MB);
      try {
        await host.run({ name, batch: warm.event, gcFirst: false, heap: false });
        const result = await host.run({ name, batch: measured.event, gcFirst: false, heap: true });
        samples.get(name)!.heap = { allocated: result.allocated ?? NaN, retained: result.retained ?? NaN, gcs: result.gcs ?? NaN };
      } finally {
        await host.stop();
      }
    }
  }
  await dynamo?.stop();
  report(samples, meanJsonBytes);
}

async function startBenchDynalite(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function report(samples: Map<string, Samples>, meanJsonBytes: number): void {
  const wall = (name: string): number => median(samples.get(name)?.wall ?? [NaN]);
  const cpu = (name: string): number => median(samples.get(name)?.cpu ?? [NaN]);
  process.stdout.write(`\naverage payload ${Math.round(meanJsonBytes)} B of JSON per record\n`);
  console.table(
    [...samples].map(([name, s]) => ({
      contender: name,
      runs: s.wall.length,
      'wall ms': wall(name).toFixed(1),
      'cpu ms': cpu(name).toFixed(1),
      'us/rec (cpu)': ((cpu(name) * 1000) / RECORDS).toFixed(2),
      'wall / floor': (wall(name) / wall(FLOOR)).toFixed(3),
      'cpu / floor': (cpu(name) / cpu(FLOOR)).toFixed(3),
      'wall / runtime': (wall(name) / wall(RUNTIME)).toFixed(2),
      'cpu / runtime': (cpu(name) / cpu(RUNTIME)).toFixed(2),
      'alloc MB/batch': s.heap ? `${s.heap.gcs > 0 ? '>= ' : ''}${(s.heap.allocated / 1_048_576).toFixed(1)}` : 'n/a',
      'GCs in heap run': s.heap?.gcs ?? 'n/a',
      'retained MB': s.heap ? (s.heap.retained / 1_048_576).toFixed(2) : 'n/a',
    })),
  );
  const ratio = (a: string, b: string): string => `wall ${(wall(a) / wall(b)).toFixed(3)}, cpu ${(cpu(a) / cpu(b)).toFixed(3)}`;
  // A summary line only when every contender it compares ran (BENCH_ONLY may leave some out).
  const ran = (...names: string[]): boolean => names.every((n) => samples.has(n));
  const lines: string[] = [];
  if (ran(RUNTIME, FLOOR)) lines.push(`runtime / floor: ${ratio(RUNTIME, FLOOR)} (target <= 1.15)`);
  if (ran(RUNTIME, FLOOR_COMPILED, DECODE_ONLY)) {
    lines.push(`runtime / floor-compiled: ${ratio(RUNTIME, FLOOR_COMPILED)}; runtime / decode-only: ${ratio(RUNTIME, DECODE_ONLY)}`);
  }
  if (ran(RUNTIME, PT_ZOD_PARALLEL, PT_ZOD_SEQUENTIAL)) {
    lines.push(`pt-zod parallel / runtime: ${ratio(PT_ZOD_PARALLEL, RUNTIME)}; pt-zod sequential / runtime: ${ratio(PT_ZOD_SEQUENTIAL, RUNTIME)} (target > 1)`);
  }
  if (ran(ZOD_ONLY, COMPILED_ONLY)) {
    lines.push(`validation alone: zod ${((cpu(ZOD_ONLY) * 1000) / RECORDS).toFixed(2)} us/record, compiled ${((cpu(COMPILED_ONLY) * 1000) / RECORDS).toFixed(2)} us/record`);
  }
  if (ran(RUNTIME_MEMORY_CLAIMS, RUNTIME)) lines.push(`claims in memory / runtime (LRU only): ${ratio(RUNTIME_MEMORY_CLAIMS, RUNTIME)}`);
  if (ran(RUNTIME_DYNAMODB, RUNTIME)) {
    const perRecord = (name: string) => ((wall(name) - wall(RUNTIME)) * 1000) / RECORDS;
    lines.push(
      `DynamoDB claims / runtime (LRU only): ${ratio(RUNTIME_DYNAMODB, RUNTIME)}; added per record: wall ${perRecord(RUNTIME_DYNAMODB).toFixed(1)} us, ` +
        `cpu ${(((cpu(RUNTIME_DYNAMODB) - cpu(RUNTIME)) * 1000) / RECORDS).toFixed(1)} us (dynalite's own work excluded: it runs in the main thread)`,
    );
  }
  if (ran(PT_PARSER_PARALLEL, PT_PARSER_SEQUENTIAL, RUNTIME)) {
    lines.push(`pt-parser parallel / runtime: ${ratio(PT_PARSER_PARALLEL, RUNTIME)}; pt-parser sequential / runtime: ${ratio(PT_PARSER_SEQUENTIAL, RUNTIME)} (target >= 100)`);
  }
  if (ran(PT_PARSER_PARALLEL, PT_PARSER_SEQUENTIAL, DECODE_ONLY)) {
    lines.push(
      `pt-parser parallel / decode-only (no validation at all): ${ratio(PT_PARSER_PARALLEL, DECODE_ONLY)}; pt-parser sequential / decode-only: ${ratio(PT_PARSER_SEQUENTIAL, DECODE_ONLY)}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
