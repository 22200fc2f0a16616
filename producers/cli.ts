/**
 * kinesis-produce: put NDJSON events (file or stdin) or generated order events into a stream.
 *
 *   npm run produce -- --stream orders --endpoint http://127.0.0.1:4567 --file events.ndjson
 *   npm run produce -- --stream orders --generate 10000 --rate 500 --invalid-fraction 0.01 --aggregate
 *
 * stdout: one summary line. stderr: progress (on a terminal), rejected records, logs.
 * Exit code: 0 all written, 1 anything rejected or failed, 2 usage error.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createKinesisClient, ensureStream } from '../kinesis/client';
import { createFixtures } from '../schemas/fixtures';
import { mulberry32 } from '../schemas/seeded-random';
import { createLogger } from '../telemetry/logger';
import { MetricPublisher } from '../telemetry/metric-publisher';
import { KinesisProducer } from './kinesis-producer';
import { ProducerError } from './errors';

const USAGE = `Usage: kinesis-produce --stream NAME [source] [options]

Source (one of):
  --file PATH              NDJSON events, one per line ("-" or no source: stdin)
  --generate N             N synthetic order events from the fixture generator
    --rate R               events per second (default: as fast as possible)
    --seed S               generator seed (default 1)
    --invalid-fraction F   share of generated events that are invalid (0..1, default 0)

Options:
  --stream NAME            target stream (required; env KINESIS_STREAM)
  --endpoint URL           Kinesis endpoint, e.g. an emulator (env KINESIS_ENDPOINT)
  --region REGION          default env AWS_REGION, else us-east-1
  --create-stream          create the stream when missing (with --shards, default 1)
  --shards N
  --aggregate              KPL aggregation of records bound for the same shard
  --ordered                keep per-key order across retries
  --linger-ms MS           batch linger (default 20)
  --max-in-flight N        concurrent PutRecords requests (default 8)
  --rejects PATH           write rejected records as NDJSON {line, code, error, event}
  --metrics-namespace NS   publish CloudWatch metrics to this namespace (off by default)
  --metrics-endpoint URL   CloudWatch endpoint override
  --no-progress            no progress line even on a terminal
  -h, --help`;

interface Counts {
  read: number;
  written: number;
  rejected: number;
  failed: number;
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

async function* ndjsonLines(path: string | undefined): AsyncGenerator<{ line: number; value: unknown; parseError?: string }> {
  const input = path === undefined || path === '-' ? process.stdin : createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { line, value: JSON.parse(text) as unknown };
    } catch (error) {
      yield { line, value: text, parseError: `not valid JSON: ${(error as Error).message}` };
    }
  }
}

async function* generated(count: number, seed: number, invalidFraction: number, rate: number) {
  const fixtures = createFixtures({ seed, source: 'kinesis-produce' });
  const random = mulberry32(seed ^ 0x9e3779b9);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    if (rate > 0) {
      const due = start + (i / rate) * 1000;
      const ahead = due - performance.now();
      if (ahead > 4) await new Promise((r) => setTimeout(r, ahead));
    }
    yield { line: i + 1, value: random() < invalidFraction ? fixtures.invalid().value : (fixtures.next() as unknown) };
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        stream: { type: 'string' },
        endpoint: { type: 'string' },
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
  const stream = v.stream ?? process.env['KINESIS_STREAM'];
  if (!stream) usageError('--stream is required');
  const endpoint = v.endpoint ?? process.env['KINESIS_ENDPOINT'];
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
    ...(v.region !== undefined ? { region: v.region } : {}),
  };
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

  const counts: Counts = { read: 0, written: 0, rejected: 0, failed: 0 };
  const rejects: WriteStream | undefined = v.rejects !== undefined ? createWriteStream(v.rejects) : undefined;
  let reportedErrors = 0;
  const reject = (line: number, code: string, message: string, event: unknown) => {
    if (rejects) rejects.write(`${JSON.stringify({ line, code, error: message, event })}\n`);
    else if (reportedErrors < 20) process.stderr.write(`${clearLine()}line ${line}: ${code}: ${message}\n`);
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
    if ('parseError' in item && item.parseError !== undefined) {
      counts.rejected++;
      reject(item.line, 'NOT_JSON', item.parseError, item.value);
      continue;
    }
    while (outstanding >= window) await new Promise<void>((r) => (wake = r));
    // Let responses and timers run between bursts of puts (the generator never waits on I/O).
    if ((counts.read & 511) === 0) await new Promise((r) => setImmediate(r));
    outstanding++;
    producer.put(item.value).then(
      () => {
        counts.written++;
      },
      (error: unknown) => {
        const code = error instanceof ProducerError ? error.code : 'ERROR';
        if (code === 'DELIVERY_FAILED') counts.failed++;
        else counts.rejected++;
        reject(item.line, code, (error as Error).message, item.value);
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
    `sent=${counts.written} retried=${stats.retries} failed=${counts.failed} rejected=${counts.rejected} ` +
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
