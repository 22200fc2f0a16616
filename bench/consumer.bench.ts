/**
 * Consumer runtime benchmark (issue 3): 10,000-record batches of ~1 KiB `order.placed` events,
 * validation on, no-op handler, every contender in the same process and run, interleaved:
 *   floor      base64 decode + JSON.parse + zod safeParse of the same records (nothing else)
 *   floor-compiled  the same with the contract compiled by z.compile (what the registry validates with)
 *   runtime    createKinesisHandler with its defaults (idempotency LRU, quarantine sink, EMF line, pino);
 *              the registry validates with z.compile'd contracts
 *   runtime-uncompiled  the same handler on a registry built with { compiled: false } (zod's regular parser)
 *   zod-only / compiled-only  validation alone (safeParse of the already parsed records), regular vs compiled
 *   pt-zod     @aws-lambda-powertools/batch BatchProcessor, the same zod schema called by hand in the
 *              record handler, parallel (its default) and sequential
 *   pt-parser  BatchProcessor with its parser integration (innerSchema = the same zod schema,
 *              transformer 'base64'), parallel and sequential
 * Each round uses a fresh batch (new event ids, as a warm container sees successive batches), so the
 * runtime's idempotency store does real work and never skips a record. Handlers and processors are
 * built once, like a Lambda container. Medians over the rounds; CPU = process.cpuUsage (user+system,
 * all threads), wall = performance.now, no forced GC between timed runs; heap = heapUsed growth during
 * one extra batch started right after a forced GC (what one batch allocates, minus any GC during it).
 *
 * Run: npm run bench:consumer   (env BENCH_RUNS, BENCH_SLOW_RUNS, BENCH_RECORDS; BENCH_SKIP_SLOW=1
 * leaves out the Powertools parser phase, BENCH_PHASES=2 runs only that phase; BENCH_GC_BETWEEN=1 forces
 * a GC before each timed run so no contender pays for the garbage the previous one left)
 */
import { Writable } from 'node:stream';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { InMemoryQuarantineSink, createKinesisHandler } from '../consumers/runtime/index';
import { createFixtures } from '../schemas/fixtures';
import { z } from 'zod';
import { EVENT_DEFINITIONS, EventRegistry, orderPlacedV1, registry, type OrderEvent } from '../schemas/index';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 10_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const SLOW_RUNS = Number(process.env['BENCH_SLOW_RUNS'] ?? 3);
const GC_BETWEEN = process.env['BENCH_GC_BETWEEN'] === '1';
/** BENCH_PHASES=2 runs only the Powertools parser phase (default: 1,2). */
const PHASES = new Set((process.env['BENCH_PHASES'] ?? '1,2').split(','));
const schema = orderPlacedV1.schema;
/** What the registry validates order.placed with (z.compile, built once; the one-off cost is printed). */
const compileStart = performance.now();
const compiledSchema = registry.validator(orderPlacedV1).schema;
const compileMs = performance.now() - compileStart;
if (!registry.validator(orderPlacedV1).compiled) throw new Error('order.placed did not compile');
const uncompiledRegistry = new EventRegistry<OrderEvent>(EVENT_DEFINITIONS, { compiled: false });
/** The parsed records of each batch (made outside the timed region) for the validation-only contenders. */
const parsedOf = new WeakMap<KinesisStreamEvent, unknown[]>();

// ---- batches -------------------------------------------------------------------------------
let payloadBytes = 0;
let payloadCount = 0;
const baseSequence = 49590338271490256608559692538361571095921575989136588898n;

/** A 10,000-record Kinesis event of `order.placed` (10 line items, ~1 KiB JSON), distinct per seed. */
function makeBatch(seed: number): KinesisStreamEvent {
  const fixtures = createFixtures({ seed });
  const records: KinesisStreamRecord[] = [];
  const parsed: unknown[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const event = fixtures.orderPlaced({ lines: 10 });
    const json = JSON.stringify(event);
    payloadBytes += Buffer.byteLength(json);
    payloadCount += 1;
    const sequenceNumber = (baseSequence + BigInt(seed) * 1_000_000n + BigInt(i)).toString();
    parsed.push(JSON.parse(json));
    records.push({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: event.data.orderId,
        sequenceNumber,
        data: Buffer.from(json).toString('base64'),
        approximateArrivalTimestamp: Date.now() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/bench',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/bench',
    });
  }
  const batch = { Records: records };
  parsedOf.set(batch, parsed);
  return batch;
}

const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 900_000 } as unknown as Context;

// ---- contenders (built once, like a container) ----------------------------------------------
let sink = 0;
const discard = new Writable({ write: (_chunk, _enc, done) => done() });
const makeHandler = (validator: EventRegistry<OrderEvent>) =>
  createKinesisHandler<OrderEvent>({
    consumerName: 'bench',
    registry: validator,
    quarantine: new InMemoryQuarantineSink(),
    logDestination: discard,
    metrics: { writer: () => undefined },
    handlers: { 'order.placed': () => undefined },
  });
const runtimeHandler = makeHandler(registry);
const uncompiledHandler = makeHandler(uncompiledRegistry);
const ptParser = new BatchProcessor(EventType.KinesisDataStreams, { parser, innerSchema: schema, transformer: 'base64' });
const ptPlain = new BatchProcessor(EventType.KinesisDataStreams);
const noop = async (): Promise<void> => undefined;
const byHand = async (record: KinesisStreamRecord): Promise<void> => {
  const result = schema.safeParse(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
  if (!result.success) throw new Error(result.error.message);
};
const byHandCompiled = async (record: KinesisStreamRecord): Promise<void> => {
  const result = compiledSchema.safeParse(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
  if (!result.success) throw new Error(result.error.message);
};

function check(res: { batchItemFailures: unknown[] }, who: string): void {
  if (res.batchItemFailures.length > 0) throw new Error(`${who} reported ${res.batchItemFailures.length} failures`);
}

interface Contender {
  name: string;
  run: (batch: KinesisStreamEvent) => Promise<void> | void;
}

const FLOOR = 'floor (base64+JSON.parse+zod)';
const RUNTIME = 'runtime (createKinesisHandler)';
const floor: Contender = {
  name: FLOOR,
  run: (batch) => {
    for (const r of batch.Records) {
      const result = schema.safeParse(JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')));
      if (!result.success) throw new Error('floor: invalid record');
      sink += 1;
    }
  },
};
const runtime: Contender = { name: RUNTIME, run: async (batch) => check(await runtimeHandler(batch, context), 'runtime') };
/** Validation alone, on records parsed outside the timed region. */
const validateOnly = (name: string, target: z.ZodType): Contender => ({
  name,
  run: (batch) => {
    for (const value of parsedOf.get(batch)!) {
      if (!target.safeParse(value).success) throw new Error(`${name}: invalid record`);
      sink += 1;
    }
  },
});
const fastContenders: Contender[] = [
  floor,
  {
    name: 'floor-compiled (base64+JSON.parse+z.compile)',
    run: (batch) => {
      for (const r of batch.Records) {
        const result = compiledSchema.safeParse(JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')));
        if (!result.success) throw new Error('floor-compiled: invalid record');
        sink += 1;
      }
    },
  },
  runtime,
  { name: 'runtime-uncompiled (registry { compiled: false })', run: async (batch) => check(await uncompiledHandler(batch, context), 'runtime-uncompiled') },
  validateOnly('zod-only (safeParse, regular parser)', schema),
  validateOnly('compiled-only (safeParse, z.compile)', compiledSchema),
  { name: 'pt-zod parallel (BatchProcessor + zod by hand)', run: async (b) => check(await processPartialResponse(b, byHand, ptPlain, { context }), 'pt-zod') },
  {
    name: 'pt-zod sequential',
    run: async (b) => check(await processPartialResponse(b, byHand, ptPlain, { context, processInParallel: false }), 'pt-zod'),
  },
  {
    name: 'pt-zod parallel + z.compile (BatchProcessor + compiled zod by hand)',
    run: async (b) => check(await processPartialResponse(b, byHandCompiled, ptPlain, { context }), 'pt-zod-compiled'),
  },
];
const slowContenders: Contender[] = [
  runtime,
  { name: 'pt-parser parallel (innerSchema, base64)', run: async (b) => check(await processPartialResponse(b, noop, ptParser, { context }), 'pt-parser') },
  {
    name: 'pt-parser sequential',
    run: async (b) => check(await processPartialResponse(b, noop, ptParser, { context, processInParallel: false }), 'pt-parser'),
  },
];

// ---- measurement -----------------------------------------------------------------------------
const gc = (globalThis as { gc?: () => void }).gc;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Samples {
  wall: number[];
  cpu: number[];
  heap: number[];
}

let seed = 1;

/**
 * One warm-up round, then `runs` timed rounds (each a fresh batch, contenders in a rotating order, no
 * forced GC in between), then one heap round per contender: forced GC, one batch, heapUsed growth.
 */
async function phase(contenders: readonly Contender[], runs: number): Promise<Map<string, Samples>> {
  const warmup = makeBatch(seed++);
  for (const c of contenders) await c.run(warmup);
  const samples = new Map<string, Samples>(contenders.map((c) => [c.name, { wall: [], cpu: [], heap: [] }]));
  for (let r = 0; r < runs; r++) {
    const batch = makeBatch(seed++);
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length]!;
      // BENCH_GC_BETWEEN=1: collect the previous contender's garbage before timing the next one, so no
      // contender pays for another's heap (each still pays for every GC its own run triggers).
      if (GC_BETWEEN && gc) gc();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await c.run(batch);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const s = samples.get(c.name)!;
      s.wall.push(wall);
      s.cpu.push((cpu.user + cpu.system) / 1000);
    }
  }
  if (gc) {
    const batch = makeBatch(seed++);
    for (const c of contenders) {
      gc();
      const before = process.memoryUsage().heapUsed;
      await c.run(batch);
      samples.get(c.name)!.heap.push(Math.max(0, process.memoryUsage().heapUsed - before));
    }
  }
  return samples;
}

function table(samples: Map<string, Samples>, reference: string): void {
  const ref = samples.get(reference)!;
  const rt = samples.get(RUNTIME)!;
  const short = reference.split(' ')[0]!;
  console.table(
    [...samples].map(([name, s]) => ({
      contender: name,
      runs: s.wall.length,
      'wall ms': median(s.wall).toFixed(1),
      'cpu ms': median(s.cpu).toFixed(1),
      'us/rec (cpu)': ((median(s.cpu) * 1000) / RECORDS).toFixed(2),
      [`wall / ${short}`]: (median(s.wall) / median(ref.wall)).toFixed(3),
      [`cpu / ${short}`]: (median(s.cpu) / median(ref.cpu)).toFixed(3),
      'wall / runtime': (median(s.wall) / median(rt.wall)).toFixed(2),
      'cpu / runtime': (median(s.cpu) / median(rt.cpu)).toFixed(2),
      'heap MB/batch': s.heap.length > 0 ? (median(s.heap) / 1_048_576).toFixed(1) : 'n/a',
      'best cpu / runtime': (Math.min(...s.cpu) / Math.min(...rt.cpu)).toFixed(2),
    })),
  );
}

async function main(): Promise<void> {
  process.stdout.write(
    `consumer benchmark: ${RECORDS}-record batches, node ${process.version}, ${RUNS} rounds (Powertools parser phase: ${SLOW_RUNS})` +
      `${GC_BETWEEN ? ', forced GC before each timed run' : ''}${gc ? '' : ' [run with --expose-gc for heap figures]'}\n`,
  );
  // Phase 1 first: the Powertools parser integration builds a new zod schema per record, which leaves
  // compiled code and heap behind that would slow whatever runs after it.
  if (PHASES.has('1')) {
    process.stdout.write('\nphase 1: floors, runtime (compiled / uncompiled), validation alone, BatchProcessor + zod by hand\n');
    const fast = await phase(fastContenders, RUNS);
    process.stdout.write(`average payload ${Math.round(payloadBytes / payloadCount)} B of JSON per record\n`);
    table(fast, FLOOR);
    const f = fast.get(FLOOR)!;
    const rt = fast.get(RUNTIME)!;
    process.stdout.write(
      `runtime / floor (medians): wall ${(median(rt.wall) / median(f.wall)).toFixed(3)}, cpu ${(median(rt.cpu) / median(f.cpu)).toFixed(3)} (target <= 1.15); ` +
        `best of ${RUNS}: wall ${(Math.min(...rt.wall) / Math.min(...f.wall)).toFixed(3)}, cpu ${(Math.min(...rt.cpu) / Math.min(...f.cpu)).toFixed(3)}\n`,
    );
    const fc = fast.get(fastContenders[1]!.name)!;
    const zodOnly = fast.get(fastContenders[4]!.name)!;
    const compiledOnly = fast.get(fastContenders[5]!.name)!;
    process.stdout.write(
      `runtime / floor-compiled (medians): wall ${(median(rt.wall) / median(fc.wall)).toFixed(3)}, cpu ${(median(rt.cpu) / median(fc.cpu)).toFixed(3)}; ` +
        `validation alone: zod ${((median(zodOnly.cpu) * 1000) / RECORDS).toFixed(2)} us/record, compiled ${((median(compiledOnly.cpu) * 1000) / RECORDS).toFixed(2)} us/record ` +
        `(${(median(zodOnly.cpu) / median(compiledOnly.cpu)).toFixed(1)}x); z.compile of order.placed took ${compileMs.toFixed(1)} ms once\n`,
    );
  }
  if (process.env['BENCH_SKIP_SLOW'] === '1' || !PHASES.has('2')) return;
  process.stdout.write('\nphase 2: Powertools BatchProcessor parser integration vs runtime (ratios from this phase)\n');
  const slow = await phase(slowContenders, SLOW_RUNS);
  table(slow, RUNTIME);
  if (sink < 0) process.stdout.write('');
}

await main();
