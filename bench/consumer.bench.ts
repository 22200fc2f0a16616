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
  runs: number;
  prepare?: () => unknown;
  run: (prepared: unknown) => Promise<unknown> | unknown;
}

const contenders: Contender[] = [
  { name: 'floor (base64+JSON.parse+zod)', runs: RUNS, run: floor },
  {
    name: 'runtime (createKinesisHandler)',
    runs: RUNS,
    prepare: makeRuntime,
    run: async (handler) => {
      const res = await (handler as ReturnType<typeof makeRuntime>)(event, context);
      if (res.batchItemFailures.length > 0) throw new Error('runtime: failures');
    },
  },
  {
    name: 'pt-zod parallel (BatchProcessor + zod by hand)',
    runs: RUNS,
    run: async () => check(await processPartialResponse(event, byHand, ptPlain, { context })),
  },
  {
    name: 'pt-zod sequential',
    runs: RUNS,
    run: async () => check(await processPartialResponse(event, byHand, ptPlain, { context, processInParallel: false })),
  },
  {
    name: 'pt-parser parallel (innerSchema, base64)',
    runs: SLOW_RUNS,
    run: async () => check(await processPartialResponse(event, noop, ptParser, { context })),
  },
  {
    name: 'pt-parser sequential',
    runs: SLOW_RUNS,
    run: async () => check(await processPartialResponse(event, noop, ptParser, { context, processInParallel: false })),
  },
];

if (process.env['BENCH_SKIP_SLOW'] === '1') contenders.splice(4, 2);

function check(res: { batchItemFailures: unknown[] }): void {
  if (res.batchItemFailures.length > 0) throw new Error(`baseline reported ${res.batchItemFailures.length} failures`);
}

const gc = (globalThis as { gc?: () => void }).gc;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  process.stdout.write(
    `consumer benchmark: ${RECORDS} records, avg ${Math.round(payloadBytes / RECORDS)} B JSON, node ${process.version}, ` +
      `runs ${RUNS} (Powertools parser: ${SLOW_RUNS})${gc ? '' : ' [no --expose-gc: heap figures are rough]'}\n`,
  );
  // warm-up: JIT every path once (and the Powertools dynamic imports)
  for (const c of contenders) {
    const prepared = c.prepare?.();
    await c.run(prepared);
  }
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const cpus = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const heaps = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const maxRuns = Math.max(...contenders.map((c) => c.runs));
  for (let r = 0; r < maxRuns; r++) {
    // interleave contenders (rotating the order) so drift affects all alike
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + r) % contenders.length]!;
      if (times.get(c.name)!.length >= c.runs) continue;
      const prepared = c.prepare?.();
      gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await c.run(prepared);
      const elapsed = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      cpus.get(c.name)!.push((cpu.user + cpu.system) / 1000);
      const heapAfter = process.memoryUsage().heapUsed;
      times.get(c.name)!.push(elapsed);
      heaps.get(c.name)!.push(Math.max(0, heapAfter - heapBefore));
    }
  }
  const wall = (name: string) => median(times.get(name)!);
  const cpuOf = (name: string) => median(cpus.get(name)!);
  const [floorName, runtimeName] = [contenders[0]!.name, contenders[1]!.name];
  const rows = contenders.map((c) => ({
    contender: c.name,
    runs: times.get(c.name)!.length,
    'wall ms': wall(c.name).toFixed(1),
    'cpu ms': cpuOf(c.name).toFixed(1),
    'us/rec (cpu)': ((cpuOf(c.name) * 1000) / RECORDS).toFixed(2),
    'x floor (wall)': (wall(c.name) / wall(floorName)).toFixed(3),
    'x floor (cpu)': (cpuOf(c.name) / cpuOf(floorName)).toFixed(3),
    'runtime speed-up (cpu)': (cpuOf(c.name) / cpuOf(runtimeName)).toFixed(2),
    'heap MB': (median(heaps.get(c.name)!) / 1_048_576).toFixed(1),
  }));
  console.table(rows);
  const summary: Record<string, number> = {};
  for (const c of contenders) {
    summary[`${c.name} | wall x runtime`] = +(wall(c.name) / wall(runtimeName)).toFixed(3);
    summary[`${c.name} | cpu x runtime`] = +(cpuOf(c.name) / cpuOf(runtimeName)).toFixed(3);
  }
  process.stdout.write(
    `runtime/floor: wall ${(wall(runtimeName) / wall(floorName)).toFixed(3)}, cpu ${(cpuOf(runtimeName) / cpuOf(floorName)).toFixed(3)} (target <= 1.15)\n` +
      `${JSON.stringify(summary, null, 1)}\n`,
  );
  if (sink < 0) process.stdout.write('');
}

await main();
