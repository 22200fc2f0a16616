/**
 * Local event source mapping benchmark (npm run bench:local-esm). One kinesalite (a child process, so
 * the CPU measured here with process.cpuUsage is the consumer side's alone) holds
 * N ~300-byte JSON records over 2 shards; every contender reads all of them from TRIM_HORIZON:
 *   floor       GetRecords loops per shard, nothing else: the emulator's read ceiling
 *   esm         LocalEventSourceMapping, BatchSize 500, no-op function (events built, checkpoints kept)
 *   esm-pf4     the same with ParallelizationFactor 4 (lanes, MD5 per key)
 *   esm-filter  the same with a FilterCriteria pattern matching half the records (JSON.parse per record)
 * Contenders run interleaved, BENCH_RUNS times each; medians of wall time and process CPU are printed
 * with the ratio to the floor. Poll intervals are 0 so the mapping's own cost, not its cadence, is measured.
 */
import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient, ensureStream, listAllShards } from '../kinesis/client';
import { LocalEventSourceMapping } from '../local/esm';
import { mappingSchema } from '../pipeline/definition-schema';
import { createLogger } from '../telemetry/logger';
import { startKinesaliteProcess } from './support';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 20_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const STREAM = 'bench';

const engine = await startKinesaliteProcess();
const client = createKinesisClient({ endpoint: engine.endpoint, region: 'us-east-1' });
await ensureStream(client, { name: STREAM, shardCount: 2 });
const streamArn = (await client.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }))).StreamDescriptionSummary!.StreamARN!;
for (let i = 0; i < RECORDS; i += 500) {
  const entries = Array.from({ length: Math.min(500, RECORDS - i) }, (_, j) => {
    const n = i + j;
    const body = { type: n % 2 === 0 ? 'order.placed' : 'order.paid', orderId: `o-${n}`, amount: n % 1000, note: 'x'.repeat(200) };
    return { PartitionKey: `customer-${n % 97}`, Data: Buffer.from(JSON.stringify(body)) };
  });
  await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: entries }));
}
const shards = await listAllShards(client, STREAM);

async function floor(): Promise<void> {
  await Promise.all(
    shards.map(async (shard) => {
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (;;) {
        const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        iterator = out.NextShardIterator;
        if ((out.Records ?? []).length === 0) return;
      }
    }),
  );
}

function esm(extra: Record<string, unknown>): () => Promise<void> {
  return async () => {
    const mapping = new LocalEventSourceMapping({
      kinesis: client,
      consumerName: 'bench',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
      streamName: STREAM,
      streamArn,
      region: 'us-east-1',
      settings: mappingSchema.parse({ startingPosition: 'TRIM_HORIZON', batchSize: 500, ...extra }),
      invoke: async () => ({ ok: true, response: null, durationMs: 0 }),
      onFailure: { write: async () => {} },
      logger: createLogger({ name: 'bench', level: 'silent' }),
      timing: { pollIntervalMs: 0, busyPollIntervalMs: 0 },
    });
    await mapping.start();
    await new Promise<void>((resolve) => {
      const check = () => {
        const stats = mapping.stats();
        if (stats.recordsProcessed + stats.recordsFiltered >= RECORDS) resolve();
        else setTimeout(check, 1);
      };
      check();
    });
    await mapping.stop();
  };
}

const contenders: Array<[string, () => Promise<void>]> = [
  ['floor', floor],
  ['esm', esm({})],
  ['esm-pf4', esm({ parallelizationFactor: 4 })],
  ['esm-filter', esm({ filterPatterns: [{ data: { type: ['order.placed'] } }] })],
];

const wall = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
for (let run = 0; run < RUNS + 1; run++) {
  for (const [name, fn] of contenders) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (run === 0) continue; // warm-up
    (wall.get(name) ?? wall.set(name, []).get(name)!).push(ms);
    (cpu.get(name) ?? cpu.set(name, []).get(name)!).push((c.user + c.system) / 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const floorMs = median(wall.get('floor')!);
const floorCpu = median(cpu.get('floor')!);
process.stdout.write(`local-esm benchmark: ${RECORDS} records (~300 B) on 2 shards, kinesalite in a child process, ${RUNS} runs (median)\n`);
process.stdout.write('contender    wall ms   records/s   cpu ms   wall vs floor   cpu vs floor\n');
for (const [name] of contenders) {
  const ms = median(wall.get(name)!);
  const line = `${name.padEnd(11)} ${ms.toFixed(0).padStart(8)} ${Math.round((RECORDS / ms) * 1000).toString().padStart(11)} ${median(cpu.get(name)!).toFixed(0).padStart(8)}   ${(ms / floorMs).toFixed(2)}x          ${(median(cpu.get(name)!) / floorCpu).toFixed(2)}x\n`;
  process.stdout.write(line);
}
client.destroy();
await engine.stop();
