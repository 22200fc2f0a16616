/**
 * The deployed bundles as `npm run build:lambdas` builds them (issue 15): every function within its size
 * budget (infra/bundle-budgets.ts) counting only what a cold start loads, the AWS SDK clients of rare paths
 * and zod's locale files out of it, and the SDK's default credential chain still complete in the split
 * bundle (its providers live in chunks loaded on first use).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleResult } from '../../infra/bundle';
import { INIT_BYTES_BUDGET, LAZY_BYTES_BUDGET, MAX_CONSUMER_INIT_BYTES, initBytesBudget } from '../../infra/bundle-budgets';
import { buildLambdas } from '../../infra/build-lambdas';
import { deployedFunctions } from '../../infra/bundle';
import { pipeline } from '../../pipeline';
import { createFixtures } from '../../schemas/fixtures';
import { kinesisEvent } from '../consumers/kinesis-event';

let work: string;
let results: BundleResult[];
const bundle = (name: string): BundleResult => results.find((r) => r.name === name)!;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'bundle-budget-'));
  ({ results } = await buildLambdas({ outDir: join(work, 'lambdas') }));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bundle size budgets (what a cold start loads)', () => {
  it('every deployed function has a budget no higher than the 300 KiB consumer ceiling', () => {
    expect(Object.keys(INIT_BYTES_BUDGET).sort()).toEqual(deployedFunctions(pipeline).map((f) => f.name).sort());
    for (const budget of Object.values(INIT_BYTES_BUDGET)) expect(budget).toBeLessThanOrEqual(MAX_CONSUMER_INIT_BYTES);
  });

  it('every bundle loads at most its budget at init', () => {
    const over = results
      .filter((r) => r.initBytes > initBytesBudget(r.name))
      .map((r) => `${r.name}: ${r.initBytes} bytes at init > budget ${initBytesBudget(r.name)} (${r.initFiles.join(', ')})`);
    expect(over).toEqual([]);
    // initBytes is exactly the entry plus its static chunks, never the lazily loaded ones.
    for (const r of results) expect(r.initFiles[0]).toBe('index.mjs');
  });

  it('no AWS SDK client, no smithy runtime and no zod locale but English in what any cold start loads', () => {
    for (const r of results) {
      const offending = r.initModules.filter(
        (m) => m.includes('node_modules/@aws-sdk/') || m.includes('node_modules/@smithy/') || (m.includes('node_modules/zod/v4/locales/') && !m.endsWith('/en.js')),
      );
      expect({ name: r.name, offending }).toEqual({ name: r.name, offending: [] });
    }
  });

  it('the SDK clients of rare paths ship in lazily loaded chunks of the same folder', () => {
    for (const name of ['order-metrics', 'order-review']) {
      const r = bundle(name);
      expect(r.lazyBytes).toBeGreaterThan(100 * 1024);
      expect(r.files.filter((f) => f.startsWith('chunks/') && f.endsWith('.mjs')).length).toBeGreaterThan(1);
    }
  });

  it('the lazily loaded chunks stay within their budget (a client imported whole would not)', () => {
    for (const [name, budget] of Object.entries(LAZY_BYTES_BUDGET)) {
      expect(bundle(name).lazyBytes, `${name}: lazy chunks ${bundle(name).lazyBytes} bytes > budget ${budget}`).toBeLessThanOrEqual(budget);
    }
  });
});

/** Runs order-review's deployed bundle in a fresh process on one batch whose first order needs review. */
async function invokeOrderReview(env: Record<string, string>): Promise<{ exitCode: number | null; stderr: string; authorization: string[]; response: unknown }> {
  const authorization: string[] = [];
  const server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = req.headers;
    authorization.push(String(headers.authorization ?? ''));
    req.resume().on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const fixtures = createFixtures({ seed: 15 });
  const order = fixtures.orderPlaced({ lines: 1 });
  order.data.lines[0]!.quantity = 1;
  order.data.lines[0]!.unitPriceMinor = 9_000_000; // above the review threshold
  order.data.totalMinor = 9_000_000;
  const eventFile = join(work, 'event.json');
  writeFileSync(eventFile, JSON.stringify(kinesisEvent([order])));
  const script =
    "const e=JSON.parse(require('node:fs').readFileSync(process.argv[1],'utf8'));" +
    "import(require('node:url').pathToFileURL(process.argv[2]).href).then(m=>m.handler(e,{awsRequestId:'r',getRemainingTimeInMillis:()=>30000}))" +
    '.then(r=>process.stderr.write("RESPONSE "+JSON.stringify(r)+"\\n"))';
  try {
    const child = spawn(process.execPath, ['-e', script, eventFile, join(bundle('order-review').outDir, 'index.mjs')], {
      env: {
        PATH: process.env['PATH'] ?? '',
        AWS_REGION: 'eu-west-1',
        CONSUMER_NAME: 'order-review',
        LOG_LEVEL: 'silent',
        REVIEW_AMOUNT_THRESHOLD_MINOR: '250000',
        REVIEW_INTAKE_FUNCTION_NAME: 'orders-test-review-intake',
        QUARANTINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-test-quarantine',
        AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exitCode = await new Promise<number | null>((r) => child.once('exit', r));
    const line = stderr.split('\n').find((l) => l.startsWith('RESPONSE '));
    return { exitCode, stderr, authorization, response: line ? JSON.parse(line.slice('RESPONSE '.length)) : undefined };
  } finally {
    server.close();
  }
}

describe('default credential chain in the split bundle', () => {
  it('signs the lazily loaded Lambda client with credentials from the environment (Lambda, LocalStack, npm start)', async () => {
    const run = await invokeOrderReview({ AWS_ACCESS_KEY_ID: 'AKIDFROMENVIRONMENT1', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.response).toEqual({ batchItemFailures: [] });
    expect(run.authorization).toHaveLength(1);
    expect(run.authorization[0]).toContain('Credential=AKIDFROMENVIRONMENT1/');
  }, 60_000);

  it('falls through to a shared credentials file profile, whose provider is a chunk loaded on demand', async () => {
    const credentials = join(work, 'credentials');
    writeFileSync(credentials, '[bench]\naws_access_key_id = AKIDFROMPROFILEFILE1\naws_secret_access_key = secret\n');
    const run = await invokeOrderReview({ AWS_PROFILE: 'bench', AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: join(work, 'no-config') });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.response).toEqual({ batchItemFailures: [] });
    expect(run.authorization[0]).toContain('Credential=AKIDFROMPROFILEFILE1/');
  }, 60_000);
});
