/**
 * kinesis-produce: put NDJSON events (file or stdin) or generated order events into a stream.
 *
 *   npm run produce -- --local --file samples/orders.ndjson        (the pipeline `npm start` runs)
 *   npm run produce -- --stream orders --generate 10000 --rate 500 --invalid-fraction 0.01 --aggregate
 *
 * stdout: one summary line. stderr: progress (on a terminal), rejected records, logs.
 * Exit code: 0 all written, 1 anything rejected or failed (or no credentials / no local runner), 2 usage error.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createKinesisClient, ensureStream } from '../kinesis/client';
import { createFixtures } from '../schemas/fixtures';
import { mulberry32 } from '../schemas/seeded-random';
import { createLogger } from '../telemetry/logger';
import { MetricPublisher } from '../telemetry/metric-publisher';
import { KinesisProducer, type RawRecord } from './kinesis-producer';
import { ProducerError } from './errors';
import { checkCredentials, localRunnerTarget } from './cli-target';
import { streamTarget } from './limits';

const USAGE = `Usage: kinesis-produce --stream NAME [source] [options]
       kinesis-produce --local [source] [options]

Source (one of):
  --file PATH              NDJSON events, one per line ("-" or no source: stdin); samples/orders.ndjson is a sample
  --generate N             N synthetic order events from the fixture generator
    --rate R               events per second (default: as fast as possible)
    --seed S               generator seed (default 1)
    --invalid-fraction F   share of generated events that break their contract on purpose (0..1, default 0);
                           they are written unvalidated, so consumers quarantine them

Target:
  --local                  the pipeline \`npm start\` runs: endpoint, region and stream from its runner.json
    --data-dir DIR         the runner's data folder (default: .data in the project root)
  --stream NAME            target stream name or ARN (env KINESIS_STREAM; with --local: a stream of the
                           pipeline definition, default its only stream)
  --endpoint URL           Kinesis endpoint, e.g. an emulator (env KINESIS_ENDPOINT); AWS when omitted
                           (credentials from the SDK's default chain: env, AWS_PROFILE, SSO, instance role)

Options:
  --region REGION          default env AWS_REGION, else us-east-1
  --create-stream          create the stream when missing (with --shards, default 1)
  --shards N
  --aggregate              KPL aggregation of records bound for the same shard
  --ordered                keep per-key order across retries
  --linger-ms MS           batch linger (default 20)
  --max-in-flight N        concurrent PutRecords requests (default 8)
  --rejects PATH           write rejected records as NDJSON {line | event, code, error, event}
  --metrics-namespace NS   publish CloudWatch metrics to this namespace (off by default)
  --metrics-endpoint URL   CloudWatch endpoint override
  --no-progress            no progress line even on a terminal
  -h, --help`;

interface Counts {
  read: number;
  written: number;
  /** Of `written`: generated events that break their contract on purpose (--invalid-fraction). */
  invalid: number;
  rejected: number;
  failed: number;
}

/** One input: a line of the NDJSON source, or a generated event (numbered, no line). */
interface Item {
  /** "line 12" or "event 12": where a rejection report points to. */
  readonly where: string;
  readonly line?: number;
  readonly event?: number;
  readonly value: unknown;
  readonly parseError?: string;
  /** A generated event that is invalid on purpose: written raw, not validated. */
  readonly raw?: RawRecord;
}

function usageError(message: string): never {
  process.stderr.write(`kinesis-produce: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) usageError(`--${name} must be a number in ${min}..${max}, got "${raw}"`);
  return value;
}

async function* ndjsonLines(path: string | undefined): AsyncGenerator<Item> {
  const input = path === undefined || path === '-' ? process.stdin : createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { where: `line ${line}`, line, value: JSON.parse(text) as unknown };
    } catch (error) {
      yield { where: `line ${line}`, line, value: text, parseError: `not valid JSON: ${(error as Error).message}` };
    }
  }
}

/**
 * An invalid fixture as a raw record, as the local runner's upstream writes them: its order id as
 * partition key when it has a usable one, else its event id (or its number).
 */
function invalidRecord(value: unknown, n: number): RawRecord {
  const v = value as { id?: unknown; data?: { orderId?: unknown } } | null;
  const orderId = v?.data?.orderId;
  const key =
    typeof orderId === 'string' && orderId.length > 0 && orderId.length <= 256
      ? orderId
      : typeof v?.id === 'string' && v.id.length > 0 && v.id.length <= 256
        ? v.id
        : `invalid-${n}`;
  return { partitionKey: key, data: JSON.stringify(value) };
}

async function* generated(count: number, seed: number, invalidFraction: number, rate: number): AsyncGenerator<Item> {
  const fixtures = createFixtures({ seed, source: 'kinesis-produce' });
  const random = mulberry32(seed ^ 0x9e3779b9);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    if (rate > 0) {
      const due = start + (i / rate) * 1000;
      const ahead = due - performance.now();
      if (ahead > 4) await new Promise((r) => setTimeout(r, ahead));
    }
    if (random() < invalidFraction) {
      const value = fixtures.invalid().value;
      yield { where: `event ${i + 1}`, event: i + 1, value, raw: invalidRecord(value, i + 1) };
    } else {
      yield { where: `event ${i + 1}`, event: i + 1, value: fixtures.next() as unknown };
    }
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        stream: { type: 'string' },
        endpoint: { type: 'string' },
        local: { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        file: { type: 'string' },
        generate: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        'invalid-fraction': { type: 'string' },
        'create-stream': { type: 'boolean', default: false },
        shards: { type: 'string' },
        aggregate: { type: 'boolean', default: false },
        ordered: { type: 'boolean', default: false },
        'linger-ms': { type: 'string' },
        'max-in-flight': { type: 'string' },
        rejects: { type: 'string' },
        'metrics-namespace': { type: 'string' },
        'metrics-endpoint': { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    });
  } catch (error) {
    usageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (v.local && v.endpoint !== undefined) usageError('--endpoint and --local exclude each other: --local takes the endpoint from runner.json');
  if (!v.local && v['data-dir'] !== undefined) usageError('--data-dir goes with --local');
  let stream = v.stream ?? process.env['KINESIS_STREAM'];
  let endpoint = v.endpoint ?? process.env['KINESIS_ENDPOINT'];
  let region = v.region;
  if (v.local) {
    const target = await localRunnerTarget({ dataDir: v['data-dir'], stream: v.stream });
    if ('error' in target) {
      process.stderr.write(`kinesis-produce: ${target.error}\n`);
      return target.usage ? 2 : 1;
    }
    ({ stream, endpoint } = target);
    region ??= target.region;
  }
  if (!stream) usageError('--stream is required (or --local for the pipeline `npm start` runs)');
  try {
    streamTarget(stream);
  } catch (error) {
    usageError((error as Error).message.replace(/^streamName/, '--stream'));
  }
  if (v.generate !== undefined && v.file !== undefined) usageError('use either --file or --generate, not both');
  const total = v.generate !== undefined ? number('generate', v.generate, 0, 0) : undefined;
  const rate = number('rate', v.rate, 0, 0);
  const seed = number('seed', v.seed, 1, 0);
  const invalidFraction = number('invalid-fraction', v['invalid-fraction'], 0, 0, 1);
  if (total === undefined && (v.rate !== undefined || v['invalid-fraction'] !== undefined)) {
    usageError('--rate and --invalid-fraction apply to --generate only');
  }

  const logger = createLogger({ name: 'kinesis-produce', level: process.env['LOG_LEVEL'] ?? 'warn', destination: process.stderr });
  const clientOptions = {
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(region !== undefined ? { region } : {}),
  };
  // Without credentials every request would fail alike: say so once, before reading any input.
  const noCredentials = await checkCredentials(clientOptions);
  if (noCredentials !== undefined) {
    process.stderr.write(`kinesis-produce: ${noCredentials}\n`);
    return 1;
  }
  if (v['create-stream']) {
    const admin = createKinesisClient(clientOptions);
    await ensureStream(admin, { name: stream, shardCount: number('shards', v.shards, 1, 1) });
    admin.destroy();
  }
  const metrics =
    v['metrics-namespace'] !== undefined
      ? new MetricPublisher({
          namespace: v['metrics-namespace'],
          dimensions: { StreamName: stream },
          logger,
          ...(v['metrics-endpoint'] !== undefined ? { endpoint: v['metrics-endpoint'] } : {}),
          ...(v.region !== undefined ? { region: v.region } : {}),
        })
      : undefined;
  const producer = new KinesisProducer({
    streamName: stream,
    ...clientOptions,
    aggregation: v.aggregate,
    ordered: v.ordered,
    lingerMs: number('linger-ms', v['linger-ms'], 20, 0),
    maxInFlightRequests: number('max-in-flight', v['max-in-flight'], 8, 1, 1000),
    logger,
    ...(metrics ? { metrics } : {}),
  });

  const counts: Counts = { read: 0, written: 0, invalid: 0, rejected: 0, failed: 0 };
  const rejects: WriteStream | undefined = v.rejects !== undefined ? createWriteStream(v.rejects) : undefined;
  let reportedErrors = 0;
  const reject = (item: Item, code: string, message: string) => {
    const at = item.line !== undefined ? { line: item.line } : { event: item.event };
    if (rejects) rejects.write(`${JSON.stringify({ ...at, code, error: message, event: item.value })}\n`);
    else if (reportedErrors < 20) process.stderr.write(`${clearLine()}${item.where}: ${code}: ${message}\n`);
    else if (reportedErrors === 20) process.stderr.write(`${clearLine()}... more rejected records (use --rejects PATH to keep them all)\n`);
    reportedErrors++;
  };

  const showProgress = process.stderr.isTTY === true && !v['no-progress'];
  const started = performance.now();
  const progress = showProgress
    ? setInterval(() => process.stderr.write(`\r${progressLine(counts, total, producer.stats().retries, started)}`), 200)
    : undefined;

  // Bound what is outstanding so a huge file streams through instead of filling memory.
  const window = 20_000;
  let outstanding = 0;
  let wake: (() => void) | undefined;
  const source = total !== undefined ? generated(total, seed, invalidFraction, rate) : ndjsonLines(v.file);
  for await (const item of source) {
    counts.read++;
    if (item.parseError !== undefined) {
      counts.rejected++;
      reject(item, 'NOT_JSON', item.parseError);
      continue;
    }
    while (outstanding >= window) await new Promise<void>((r) => (wake = r));
    // Let responses and timers run between bursts of puts (the generator never waits on I/O).
    if ((counts.read & 511) === 0) await new Promise((r) => setImmediate(r));
    outstanding++;
    (item.raw !== undefined ? producer.putRecord(item.raw) : producer.put(item.value)).then(
      () => {
        counts.written++;
        if (item.raw !== undefined) counts.invalid++;
      },
      (error: unknown) => {
        const code = error instanceof ProducerError ? error.code : 'ERROR';
        if (code === 'DELIVERY_FAILED') counts.failed++;
        else counts.rejected++;
        reject(item, code, (error as Error).message);
      },
    ).finally(() => {
      outstanding--;
      wake?.();
      wake = undefined;
    });
  }
  await producer.close();
  await metrics?.close();
  if (progress) clearInterval(progress);
  if (rejects) await new Promise<void>((r) => rejects.end(r));
  const stats = producer.stats();
  const seconds = (performance.now() - started) / 1000;
  if (showProgress) process.stderr.write(clearLine());
  process.stdout.write(
    `sent=${counts.written} invalid_sent=${counts.invalid} retried=${stats.retries} failed=${counts.failed} rejected=${counts.rejected} ` +
      `kinesis_records=${stats.kinesisRecordsWritten} requests=${stats.requests} ` +
      `elapsed_s=${seconds.toFixed(2)} rate_per_s=${Math.round(counts.written / Math.max(seconds, 1e-3))}\n`,
  );
  return counts.failed + counts.rejected > 0 ? 1 : 0;
}

function clearLine(): string {
  return process.stderr.isTTY ? '\r\x1b[2K' : '';
}

function progressLine(counts: Counts, total: number | undefined, retried: number, started: number): string {
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(counts.written / Math.max(seconds, 1e-3));
  const done = counts.written + counts.failed + counts.rejected;
  let bar = '';
  if (total !== undefined && total > 0) {
    const width = 24;
    const filled = Math.min(width, Math.round((done / total) * width));
    bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor((done / total) * 100)}% `;
  }
  return `\x1b[2K${bar}${done}${total !== undefined ? `/${total}` : ''} ${rate}/s sent=${counts.written} retried=${retried} failed=${counts.failed} rejected=${counts.rejected}`;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kinesis-produce: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
