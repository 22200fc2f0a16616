/**
 * What deploys is what runs: every function bundle of the reference pipeline, built exactly as
 * `npm run build:lambdas` builds it (infra/bundle.ts), is loaded in the local Lambda sandbox
 * (local/lambda/: one plain `node` process per execution environment, nothing inherited) with the
 * configuration the synthesized dev stack gives the function (handler, memory, timeout, environment
 * variables; Terraform references resolved to local stand-ins), then invoked with real Kinesis events:
 * valid records, invalid ones and a KPL aggregate. The response, the quarantine (SQS SendMessageBatch
 * bodies), the EMF metrics, the business metrics (PutMetricData), the publish ledger (DynamoDB on
 * dynalite) and the downstream invocation (Lambda Invoke, InvocationType Event) are asserted.
 *
 * A defect that appears only in the bundle (a dynamic import esbuild cannot follow, a missing external,
 * an init-time configuration error against the stack's environment) fails here.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deployedFunctions } from '../../infra/bundle';
import { encodeAggregate } from '../../kinesis/kpl';
import { bundleSandboxChild } from '../../local/lambda/bundle';
import { FunctionLog } from '../../local/lambda/function-log';
import { parseEmfLine } from '../../local/lambda/emf';
import { AsyncInvokeQueue } from '../../local/lambda/async-invoke-queue';
import { startInvokeEndpoint, type InvokeEndpoint } from '../../local/lambda/invoke-endpoint';
import { LocalFunction } from '../../local/lambda/local-function';
import { sandboxEnvironment } from '../../local/lambda/local-lambda-service';
import { NdjsonFile } from '../../local/ndjson-file';
import { deployedName, pipeline } from '../../pipeline';
import type { OrderEvent } from '../../schemas';
import { createFixtures } from '../../schemas/fixtures';
import { buildReviewRequest } from '../../consumers/order-review/review-request';
import { deployedBundles, type DeployedBundles } from '../support/deployed-bundles';
import { createLedgerTable, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';
import { startPutMetricDataCapture, type PutMetricDataCapture } from '../support/put-metric-data-capture';
import { startSqsCapture, type SqsCapture } from '../support/sqs-capture';
import { resources, stageConfig, synthStage, type Block, type Synthesized } from '../infra/synth-helpers';

const STAGE = stageConfig('dev');
const STREAM_ARN = `arn:aws:kinesis:${STAGE.region}:${STAGE.account}:stream/${deployedName(pipeline, 'dev', 'orders')}`;
const SHARD_ID = 'shardId-000000000001';

/** A log that also keeps every line in memory (the function's CloudWatch Logs stream). */
class CapturingLog extends FunctionLog {
  readonly lines: string[] = [];
  override line(text: string): void {
    this.lines.push(text);
    super.line(text);
  }
}

interface DeployedFunction {
  key: string;
  block: Block;
  fn: LocalFunction;
  log: CapturingLog;
  /** The environment the sandbox got (the stack's variables, resolved). */
  env: Record<string, string>;
}

let bundles: DeployedBundles;
let synth: Synthesized;
let sqs: SqsCapture;
let cloudwatch: PutMetricDataCapture;
let dynamo: EmbeddedDynamoDb;
let endpoint: InvokeEndpoint;
const functions = new Map<string, LocalFunction>();
const asyncQueues = new Map<string, AsyncInvokeQueue>();
const deployed = new Map<string, DeployedFunction>();
const ledgerTables: string[] = [];

/**
 * The stack's value for a variable with every Terraform reference (`${type.id.attr}`) replaced by its
 * local stand-in: an SQS queue's url -> a queue on the SQS capture, a DynamoDB table's name -> that
 * table (created on dynalite). Any other reference fails: the test must know what each variable means.
 */
function resolveReferences(value: string): string {
  return value.replace(/\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z_]+)\}/g, (_, type: string, id: string, attribute: string) => {
    const block = synth.tf.resource[type]?.[id];
    if (!block) throw new Error(`unknown Terraform reference \${${type}.${id}.${attribute}}`);
    if (type === 'aws_sqs_queue' && attribute === 'url') return sqs.queueUrl(String(block['name']), STAGE.account);
    if (type === 'aws_dynamodb_table' && attribute === 'name') {
      ledgerTables.push(String(block['name']));
      return String(block['name']);
    }
    throw new Error(`no local stand-in for \${${type}.${id}.${attribute}}`);
  });
}

/** The module file Lambda's Node.js runtime loads for a handler setting `file.export` (.mjs, .js or .cjs). */
function handlerModule(bundleDir: string, handler: string): string {
  const file = handler.slice(0, handler.lastIndexOf('.'));
  const found = ['.mjs', '.js', '.cjs'].map((ext) => join(bundleDir, `${file}${ext}`)).find((p) => existsSync(p));
  if (!found) throw new Error(`handler ${handler}: no ${file}.mjs/.js/.cjs in ${bundleDir}`);
  return found;
}

beforeAll(async () => {
  bundles = await deployedBundles();
  synth = synthStage(pipeline, STAGE, bundles.dir);
  [sqs, cloudwatch, dynamo] = await Promise.all([startSqsCapture(), startPutMetricDataCapture(), startDynalite()]);
  endpoint = await startInvokeEndpoint({ functions, asyncQueues, region: STAGE.region });
  const work = mkdtempSync(join(tmpdir(), 'deployed-sandbox-'));
  // The sandbox bootstrap only (Lambda's runtime); the function code is the deployed bundle itself.
  const childScript = await bundleSandboxChild(join(work, 'build'));
  const blocks = resources(synth, 'aws_lambda_function');
  for (const { name: key } of deployedFunctions(pipeline)) {
    const functionName = deployedName(pipeline, 'dev', key);
    const block = blocks.find((b) => b['function_name'] === functionName);
    if (!block) throw new Error(`the dev stack has no function ${functionName}`);
    const variables = (block['environment'] as { variables: Record<string, string> }).variables;
    const configured = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveReferences(v)]));
    const env = {
      ...sandboxEnvironment({
        configured: {
          ...configured,
          // Where the SDK inside the function sends its calls (AWS SDK "service-specific endpoints").
          AWS_ENDPOINT_URL_SQS: sqs.endpoint,
          AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_ENDPOINT_URL_LAMBDA: endpoint.url,
        },
        functionName,
        memoryMb: Number(block['memory_size']),
        region: STAGE.region,
        projectRoot: join(bundles.dir, key),
        entry: 'index',
      }),
      _HANDLER: String(block['handler']),
    };
    const log = new CapturingLog(join(work, 'logs', `${key}.log`));
    const fn = new LocalFunction({
      spec: { name: functionName, entry: handlerModule(join(bundles.dir, key), String(block['handler'])), memoryMb: Number(block['memory_size']), timeoutSeconds: Number(block['timeout']) },
      functionArn: `arn:aws:lambda:${STAGE.region}:${STAGE.account}:function:${functionName}`,
      env,
      log,
      childScript,
    });
    functions.set(functionName, fn);
    asyncQueues.set(functionName, new AsyncInvokeQueue({ fn, onFailure: new NdjsonFile(join(work, 'on-failure', `${key}.ndjson`)) }));
    deployed.set(key, { key, block, fn, log, env });
  }
  const client = dynamo.client();
  for (const table of ledgerTables) await createLedgerTable(client, table);
});

afterAll(async () => {
  await endpoint?.close();
  await Promise.all([...functions.values()].map((fn) => fn.close()));
  await Promise.all([...deployed.values()].map((d) => d.log.close()));
  await Promise.all([sqs?.close(), cloudwatch?.close(), dynamo?.stop()]);
});

function get(key: string): DeployedFunction {
  const d = deployed.get(key);
  if (!d) throw new Error(`no deployed function ${key}`);
  return d;
}

let sequence = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
function record(data: Uint8Array | string, partitionKey: string, arrivalMs: number): KinesisStreamRecord {
  sequence += 1n;
  const sequenceNumber = sequence.toString();
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(data).toString('base64'),
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${SHARD_ID}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${STAGE.account}:role/orders-dev-consumer`,
    awsRegion: STAGE.region,
    eventSourceARN: STREAM_ARN,
  };
}
const json = (e: unknown): string => JSON.stringify(e);

/** The KPL aggregate of events (one Kinesis record holding several user records). */
function aggregate(events: readonly OrderEvent[]): Uint8Array {
  return encodeAggregate(events.map((e) => ({ partitionKey: e.data.orderId, data: new TextEncoder().encode(json(e)) })));
}

async function invoke(key: string, event: unknown): Promise<unknown> {
  const result = await get(key).fn.invoke({ payload: JSON.stringify(event) });
  if (!result.ok) throw new Error(`${key} failed: ${JSON.stringify(result.error)}\n${result.logTail}`);
  return JSON.parse(result.payload) as unknown;
}

/** The EMF documents a function wrote, parsed (waits for `count`: stdout and the result travel separately). */
async function emfDocuments(key: string, count: number): Promise<Map<string, number>[]> {
  const { log } = get(key);
  const docs = () => log.lines.map(parseEmfLine).filter((m): m is Map<string, number> => m !== undefined);
  await vi.waitFor(() => expect(docs().length).toBeGreaterThanOrEqual(count), { timeout: 10_000, interval: 20 });
  return docs();
}

interface QuarantineBody {
  consumer: string;
  error: { kind: string; message: string };
  record: { sequenceNumber: string; data?: string; shardId: string; aggregated: boolean };
}

describe('the deployed bundles', () => {
  it('are the folders the stack zips: one per function, handler index.handler, built by infra/bundle.ts', () => {
    expect(bundles.results.map((r) => r.name).sort()).toEqual(deployedFunctions(pipeline).map((f) => f.name).sort());
    for (const d of deployed.values()) {
      expect(d.block['handler']).toBe('index.handler');
      expect(d.block['runtime']).toBe('nodejs22.x');
      // The environment the stack gives the function, every Terraform reference resolved locally.
      expect(Object.values(d.env).some((v) => v.includes('${'))).toBe(false);
      // Source maps are a stage's debug choice (sourceMaps), off in dev: no --enable-source-maps init cost.
      expect(d.env).not.toHaveProperty('NODE_OPTIONS');
    }
    // The stack's asset for each function is its bundle folder (cdktf hashes the folder's content).
    const fakeSynth = synthStage(pipeline, STAGE);
    const hash = (s: Synthesized, name: string) => resources(s, 'aws_lambda_function').find((b) => b['function_name'] === name)!['source_code_hash'];
    for (const { name } of deployedFunctions(pipeline)) {
      expect(hash(synth, deployedName(pipeline, 'dev', name))).not.toBe(hash(fakeSynth, deployedName(pipeline, 'dev', name)));
    }
  });

  it('order-review: valid, invalid and aggregated records -> no retries, quarantine with reasons, review requests, EMF counts', async () => {
    const fixtures = createFixtures({ seed: 1901, startTime: Date.now() - 60_000 });
    const arrival = Date.now() - 300_000; // five minutes ago: MaxRecordAgeMs is at least that
    const big = (): OrderEvent => {
      const e = fixtures.orderPlaced({ lines: 1 });
      e.data.lines[0]!.quantity = 2;
      e.data.lines[0]!.unitPriceMinor = 200_000;
      e.data.totalMinor = 400_000; // above REVIEW_AMOUNT_THRESHOLD_MINOR (250000) of the stack
      return e;
    };
    const small = (): OrderEvent => {
      const e = fixtures.orderPlaced({ lines: 1 });
      e.data.lines[0]!.quantity = 1;
      e.data.lines[0]!.unitPriceMinor = 1_000;
      e.data.totalMinor = 1_000;
      return e;
    };
    const bigOne = big();
    const smallOne = small();
    const aggregated = [big(), small()];
    const invalidSchema = { ...small(), id: 'not-a-uuid' };
    const records = [
      record(json(bigOne), bigOne.data.orderId, arrival),
      record('{"not json', 'k-bad-json', arrival + 1),
      record(json(smallOne), smallOne.data.orderId, arrival + 2),
      record(aggregate(aggregated), aggregated[0]!.data.orderId, arrival + 3),
      record(json(invalidSchema), invalidSchema.data.orderId, arrival + 4),
    ];
    const response = await invoke('order-review', { Records: records } satisfies KinesisStreamEvent);
    expect(response).toEqual({ batchItemFailures: [] });

    const queueUrl = get('order-review').env['QUARANTINE_QUEUE_URL']!;
    const quarantined = sqs.bodies<QuarantineBody>(queueUrl);
    expect(quarantined.map((q) => [q.record.sequenceNumber, q.error.kind]).sort()).toEqual(
      [
        [records[1]!.kinesis.sequenceNumber, 'invalid-json'],
        [records[4]!.kinesis.sequenceNumber, 'schema'],
      ].sort(),
    );
    for (const q of quarantined) {
      expect(q.consumer).toBe('order-review');
      expect(q.record.shardId).toBe(SHARD_ID);
      const original = records.find((r) => r.kinesis.sequenceNumber === q.record.sequenceNumber)!;
      expect(q.record.data).toBe(original.kinesis.data); // the full payload, not a summary
    }

    // Two orders above the threshold (one inside the aggregate) -> two asynchronous invocations.
    await asyncQueues.get(deployedName(pipeline, 'dev', 'review-intake'))!.drain();
    const intake = await emfDocuments('review-intake', 2);
    expect(intake.reduce((n, m) => n + (m.get('ReviewRequestsAccepted') ?? 0), 0)).toBe(2);
    // The log lines travel on the same pipe as the EMF documents but need not precede them: wait for them.
    const intakeLines = () => get('review-intake').log.lines.filter((l) => l.includes('"orderId"')).join('\n');
    await vi.waitFor(() => {
      expect(intakeLines()).toContain(bigOne.data.orderId);
      expect(intakeLines()).toContain(aggregated[0]!.data.orderId);
    }, { timeout: 10_000, interval: 20 });
    expect(intakeLines()).not.toContain(smallOne.data.orderId);

    const [emf] = await emfDocuments('order-review', 1);
    // 4 Kinesis records + 1 more user record inside the aggregate = 6 records received.
    expect(Object.fromEntries(['RecordsReceived', 'RecordsProcessed', 'RecordsQuarantined', 'RecordsRetried', 'DuplicatesSkipped'].map((n) => [n, emf!.get(n)]))).toEqual({
      RecordsReceived: 6,
      RecordsProcessed: 4,
      RecordsQuarantined: 2,
      RecordsRetried: 0,
      DuplicatesSkipped: 0,
    });
    expect(emf!.get('MaxRecordAgeMs')).toBeGreaterThanOrEqual(300_000);
    expect(emf!.get('BatchDurationMs')).toBeGreaterThan(0);
  });

  it('order-metrics: a final window invoke publishes the figures of valid and aggregated records once, claims the window in the ledger', async () => {
    const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const window = { start: new Date(startMs).toISOString(), end: new Date(startMs + 60_000).toISOString() };
    const fixtures = createFixtures({ seed: 1902, startTime: startMs });
    const placed = fixtures.orderPlaced();
    const paid = fixtures.orderPaid({ orderId: placed.data.orderId, amountMinor: 12_345, currency: 'EUR' });
    const inside = [fixtures.orderShipped({ orderId: placed.data.orderId }), fixtures.orderCancelled()];
    const records = [
      record(json(placed), placed.data.orderId, startMs + 1_000),
      record(json(paid), paid.data.orderId, startMs + 2_000),
      record(Buffer.from([0xff, 0xfe, 0x00]), 'k-bad-utf8', startMs + 3_000),
      record(aggregate(inside), inside[0]!.data.orderId, startMs + 4_000),
    ];
    const event = { Records: records, window, state: {}, shardId: SHARD_ID, eventSourceARN: STREAM_ARN, isFinalInvokeForWindow: true, isWindowTerminatedEarly: false };
    const response = (await invoke('order-metrics', event)) as { batchItemFailures: unknown[]; state: Record<string, unknown> };
    expect(response.batchItemFailures).toEqual([]);
    expect(response.state).toMatchObject({ placed: 1, paid: 1, shipped: 1, cancelled: 1 });

    const quarantined = sqs.bodies<QuarantineBody>(get('order-metrics').env['QUARANTINE_QUEUE_URL']!);
    expect(quarantined.map((q) => [q.record.sequenceNumber, q.error.kind, q.consumer])).toEqual([[records[2]!.kinesis.sequenceNumber, 'invalid-utf8', 'order-metrics']]);

    expect(cloudwatch.requests).toHaveLength(1);
    const request = cloudwatch.requests[0]!.input;
    expect(request.Namespace).toBe('Orders/Business');
    const figures = Object.fromEntries(
      request.MetricData.map((d) => [d.MetricName + (d.Dimensions?.find((x) => x.Name === 'Currency') ? `/${d.Dimensions.find((x) => x.Name === 'Currency')!.Value}` : ''), d.Value]),
    );
    expect(figures).toEqual({ OrdersPlaced: 1, OrdersPaid: 1, OrdersShipped: 1, OrdersCancelled: 1, 'RevenueMinor/EUR': 12_345 });
    for (const datum of request.MetricData) expect(datum.Dimensions).toContainEqual({ Name: 'Stage', Value: 'dev' }); // BUSINESS_METRICS_DIMENSIONS of the stack

    // The window is claimed in the stack's ledger table (so a retried final invoke publishes nothing).
    const table = get('order-metrics').env['PUBLISH_LEDGER_TABLE']!;
    const items = await dynamo.client().send(new ScanCommand({ TableName: table }));
    expect(items.Items).toHaveLength(1);
    expect(JSON.stringify(items.Items![0])).toContain(window.start.slice(0, 16));

    const [emf] = await emfDocuments('order-metrics', 1);
    expect([emf!.get('RecordsReceived'), emf!.get('RecordsProcessed'), emf!.get('RecordsQuarantined')]).toEqual([5, 4, 1]);

    // The same final invoke again (Lambda retrying it): nothing published a second time.
    const again = (await invoke('order-metrics', { ...event, state: {} })) as { batchItemFailures: unknown[] };
    expect(again.batchItemFailures).toEqual([]);
    await emfDocuments('order-metrics', 2);
    expect(cloudwatch.requests).toHaveLength(1);
  });

  it('review-intake: accepts a valid request once (a copy is a duplicate, claimed in its DynamoDB table) and rejects an invalid one with a typed error', async () => {
    const placed = createFixtures({ seed: 1903, startTime: Date.now() }).orderPlaced();
    const request = buildReviewRequest(placed, [{ code: 'amount-above-threshold', message: 'total above the threshold' }]);
    const ok = await invoke('review-intake', request);
    expect(ok).toEqual({ accepted: true, orderId: placed.data.orderId, sourceEventId: placed.id, duplicate: false });
    // The same request again (order-review retried, or Lambda delivered the event twice): nothing done again.
    expect(await invoke('review-intake', request)).toEqual({ accepted: true, orderId: placed.data.orderId, sourceEventId: placed.id, duplicate: true });
    const table = get('review-intake').env['IDEMPOTENCY_TABLE']!;
    const { Item } = await dynamo.client().send(new GetItemCommand({ TableName: table, Key: { ledgerKey: { S: `event|${placed.id}` } }, ConsistentRead: true }));
    expect(Item?.['status']?.S).toBe('COMPLETED');
    // order-review keeps no claims of its own: no table, so no DynamoDB request on its batches.
    expect(get('order-review').env).not.toHaveProperty('IDEMPOTENCY_TABLE');
    const result = await get('review-intake').fn.invoke({ payload: JSON.stringify({ nope: true }) });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.errorType).toBe('InvalidReviewRequestError');
  });

  it('starts each bundle from its own folder with nothing from the repository (no node_modules, no TypeScript loader)', () => {
    for (const d of deployed.values()) {
      const code = readFileSync(join(bundles.dir, d.key, 'index.mjs'), 'utf8');
      // Only Node built-ins (and relative chunks of the same folder) may be imported at run time.
      const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]!);
      expect(specifiers.filter((s) => !s.startsWith('node:') && !s.startsWith('./'))).toEqual([]);
      expect(d.env['NODE_PATH']).toBeUndefined();
    }
  });
});

