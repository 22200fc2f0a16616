/**
 * Consumer runtime benchmark (issue 3): one 10,000-record batch of ~1 KiB `order.placed` events,
 * validation on, no-op handler, all contenders in the same process and run, interleaved:
 *   floor      base64 decode + JSON.parse + zod safeParse of the same records (nothing else)
 *   runtime    createKinesisHandler (defaults: LRU idempotency, quarantine sink, EMF line, pino summary)
 *   pt-parser  @aws-lambda-powertools/batch BatchProcessor + parser integration
 *              (innerSchema = the same zod schema, transformer 'base64'), parallel and sequential
 *   pt-zod     BatchProcessor with the same zod schema called by hand in the record handler, parallel and sequential
 * Prints medians over repeated runs, ratios, and heap per batch.
 *
 * Run: npm run bench:consumer   (env BENCH_RUNS, BENCH_SLOW_RUNS, BENCH_RECORDS to change the sizes;
 * BENCH_SKIP_SLOW=1 leaves out the Powertools parser contenders)
 */
import { Writable } from 'node:stream';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { InMemoryQuarantineSink, createKinesisHandler } from '../consumers/runtime/index';
import { createFixtures } from '../schemas/fixtures';
import { orderPlacedV1, registry, type OrderEvent } from '../schemas/index';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 10_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const SLOW_RUNS = Number(process.env['BENCH_SLOW_RUNS'] ?? 3);
const schema = orderPlacedV1.schema;

// ---- the batch -----------------------------------------------------------------------------
const fixtures = createFixtures({ seed: 2026 });
const base = 49590338271490256608559692538361571095921575989136588898n;
const records: KinesisStreamRecord[] = [];
let payloadBytes = 0;
for (let i = 0; i < RECORDS; i++) {
  const event = fixtures.orderPlaced({ lines: 10 });
  const json = JSON.stringify(event);
  payloadBytes += Buffer.byteLength(json);
  const sequenceNumber = (base + BigInt(i)).toString();
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
const event: KinesisStreamEvent = { Records: records };
const context = {
  awsRequestId: 'bench',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

// ---- contenders ----------------------------------------------------------------------------
let sink = 0;

function floor(): void {
  for (const r of records) {
    const result = schema.safeParse(JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')));
    if (!result.success) throw new Error('floor: invalid record');
    sink += 1;
  }
}

const discard = new Writable({ write: (_chunk, _enc, done) => done() });
/** A fresh handler per batch (as after a cold start): the idempotency LRU must not skip the repeated batch. */
function makeRuntime() {
  return createKinesisHandler<OrderEvent>({
    consumerName: 'bench',
    registry,
    quarantine: new InMemoryQuarantineSink(),
    logDestination: discard,
    metrics: { writer: () => undefined },
    handlers: { 'order.placed': () => undefined },
  });
}

const ptParser = new BatchProcessor(EventType.KinesisDataStreams, { parser, innerSchema: schema, transformer: 'base64' });
const ptPlain = new BatchProcessor(EventType.KinesisDataStreams);
const noop = async (): Promise<void> => undefined;
const byHand = async (record: KinesisStreamRecord): Promise<void> => {
  const result = schema.safeParse(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
  if (!result.success) throw new Error(result.error.message);
};

interface Contender {
  name: string;
  prepare?: () => unknown;
  run: (prepared: unknown) => Promise<unknown> | unknown;
}

function check(res: { batchItemFailures: unknown[] }): void {
  if (res.batchItemFailures.length > 0) throw new Error(`baseline reported ${res.batchItemFailures.length} failures`);
}

const FLOOR = 'floor (base64+JSON.parse+zod)';
const RUNTIME = 'runtime (createKinesisHandler)';
const runtime: Contender = {
  name: RUNTIME,
  prepare: makeRuntime,
  run: async (handler) => {
    const res = await (handler as ReturnType<typeof makeRuntime>)(event, context);
    if (res.batchItemFailures.length > 0) throw new Error('runtime: failures');
  },
};
const fastContenders: Contender[] = [
  { name: FLOOR, run: floor },
  runtime,
  { name: 'pt-zod parallel (BatchProcessor + zod by hand)', run: async () => check(await processPartialResponse(event, byHand, ptPlain, { context })) },
  {
    name: 'pt-zod sequential',
    run: async () => check(await processPartialResponse(event, byHand, ptPlain, { context, processInParallel: false })),
  },
];
const slowContenders: Contender[] = [
  runtime,
  { name: 'pt-parser parallel (innerSchema, base64)', run: async () => check(await processPartialResponse(event, noop, ptParser, { context })) },
  { name: 'pt-parser sequential', run: async () => check(await processPartialResponse(event, noop, ptParser, { context, processInParallel: false })) },
];

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

/** Warm every contender up once, then `runs` rounds, contenders interleaved in a rotating order. */
async function phase(contenders: readonly Contender[], runs: number): Promise<Map<string, Samples>> {
  for (const c of contenders) await c.run(c.prepare?.());
  const samples = new Map<string, Samples>(contenders.map((c) => [c.name, { wall: [], cpu: [], heap: [] }]));
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length]!;
      const prepared = c.prepare?.(); // per container, not per batch: outside the measurement
      gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await c.run(prepared);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const heapAfter = process.memoryUsage().heapUsed;
      const s = samples.get(c.name)!;
      s.wall.push(wall);
      s.cpu.push((cpu.user + cpu.system) / 1000);
      s.heap.push(Math.max(0, heapAfter - heapBefore));
    }
  }
  return samples;
}

function table(samples: Map<string, Samples>, reference: string): void {
  const ref = samples.get(reference)!;
  const runtimeSamples = samples.get(RUNTIME)!;
  console.table(
    [...samples].map(([name, s]) => ({
      contender: name,
      runs: s.wall.length,
      'wall ms': median(s.wall).toFixed(1),
      'cpu ms': median(s.cpu).toFixed(1),
      'us/rec (cpu)': ((median(s.cpu) * 1000) / RECORDS).toFixed(2),
      [`wall / ${reference.split(' ')[0]}`]: (median(s.wall) / median(ref.wall)).toFixed(3),
      [`cpu / ${reference.split(' ')[0]}`]: (median(s.cpu) / median(ref.cpu)).toFixed(3),
      'wall / runtime': (median(s.wall) / median(runtimeSamples.wall)).toFixed(2),
      'cpu / runtime': (median(s.cpu) / median(runtimeSamples.cpu)).toFixed(2),
      'heap MB': (median(s.heap) / 1_048_576).toFixed(1),
    })),
  );
}

async function main(): Promise<void> {
  process.stdout.write(
    `consumer benchmark: ${RECORDS} records, avg ${Math.round(payloadBytes / RECORDS)} B JSON, node ${process.version}, ` +
      `runs ${RUNS} (Powertools parser phase: ${SLOW_RUNS})${gc ? '' : ' [no --expose-gc: heap figures are rough]'}\n`,
  );
  // Phase 1: the fast contenders. Run first because the Powertools parser integration builds a new
  // zod schema per record, which leaves compiled code and heap behind that would slow whatever runs next.
  process.stdout.write('\nphase 1: floor, runtime, BatchProcessor + zod by hand\n');
  const fast = await phase(fastContenders, RUNS);
  table(fast, FLOOR);
  const f = fast.get(FLOOR)!;
  const rt = fast.get(RUNTIME)!;
  process.stdout.write(
    `runtime / floor: wall ${(median(rt.wall) / median(f.wall)).toFixed(3)}, cpu ${(median(rt.cpu) / median(f.cpu)).toFixed(3)} (target <= 1.15)\n`,
  );
  if (process.env['BENCH_SKIP_SLOW'] === '1') return;
  // Phase 2: Powertools parser integration, interleaved with the runtime again (ratios from this phase).
  process.stdout.write('\nphase 2: Powertools BatchProcessor parser integration vs runtime\n');
  const slow = await phase(slowContenders, SLOW_RUNS);
  table(slow, RUNTIME);
  if (sink < 0) process.stdout.write('');
}


import { RecordDecoder } from '../consumers/runtime/decode';
import { createLogger } from '../telemetry/logger';
const log = createLogger({ name: 'x', destination: discard });
const dec = new RecordDecoder({ registry, maxHops: 5, maxJsonDepth: 32 });
const ts: number[] = [];
for (let r = 0; r < 40; r++) { const t0 = performance.now(); dec.decode(records, 'shardId-000000000000', log); ts.push(performance.now() - t0); }
ts.sort((a, b) => a - b); console.log('decode median', ts[20]!.toFixed(2), 'min', ts[0]!.toFixed(2));
