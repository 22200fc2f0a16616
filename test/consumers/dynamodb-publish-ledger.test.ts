/**
 * DynamoDbPublishLedger against dynalite (a real DynamoDB emulator, in-process): the item format, TTL,
 * idempotency under SDK retries of lost responses, errors. The shared ledger semantics (leases,
 * take-over, concurrent claims) are in publish-ledger-contract.test.ts.
 * CloudWatch is the only mocked service (aws-sdk-client-mock).
 */
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand, PutItemCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BusinessMetricDatum } from '../../consumers/order-metrics/business-metrics';
import { CloudWatchBusinessMetricsPublisher } from '../../consumers/order-metrics/cloudwatch-publisher';
import {
  CLAIMED_AT_ATTRIBUTE,
  CLAIM_TOKEN_ATTRIBUTE,
  DEFAULT_LEDGER_RETENTION_SECONDS,
  DynamoDbPublishLedger,
  LEASE_UNTIL_ATTRIBUTE,
  STATUS_ATTRIBUTE,
} from '../../consumers/order-metrics/dynamodb-publish-ledger';
import type { Claim, ClaimResult } from '../../consumers/order-metrics/publish-ledger';
import { WindowClaimHeldError } from '../../consumers/order-metrics/publish-once';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import { createLedgerTable, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';

const cw = mockClient(CloudWatchClient);
let db: EmbeddedDynamoDb;
let client: DynamoDBClient;
let tableCount = 0;

beforeAll(async () => {
  db = await startDynalite();
  client = db.client();
});
afterAll(async () => {
  await db.stop();
});
afterEach(() => cw.reset());

/** A fresh table per test: no test sees another's claims. */
async function newTable(): Promise<string> {
  const name = `ledger-${++tableCount}`;
  await createLedgerTable(client, name);
  return name;
}

const KEY = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders|shardId-000000000000|2026-03-02T10:00:00Z|2026-03-02T10:01:00Z';
const T = new Date('2026-03-02T10:00:00Z');
const DATA: BusinessMetricDatum[] = [{ MetricName: 'OrdersPlaced', Dimensions: [{ Name: 'Stage', Value: 'test' }], Timestamp: T, Value: 3, Unit: 'Count' }];

/** The claim inside a 'claimed' result (fails the test otherwise). */
function claimOf(result: ClaimResult): Claim {
  if (result.outcome !== 'claimed') throw new Error(`expected a claim, got ${result.outcome}`);
  return result.claim;
}

const itemOf = async (tableName: string, key: string) =>
  (await client.send(new GetItemCommand({ TableName: tableName, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: key } }, ConsistentRead: true }))).Item!;

/**
 * A proxy in front of dynalite that forwards the first request of `target` (e.g. "PutItem") and drops the
 * connection instead of answering: written, but the client cannot know, so the SDK retries the same request.
 */
async function lossyProxy(target: string): Promise<{ endpoint: string; dropped: () => number; close: () => void }> {
  let dropped = 0;
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = request(db.endpoint, { method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        const body: Buffer[] = [];
        upRes.on('data', (c: Buffer) => body.push(c));
        upRes.on('end', () => {
          if (String(req.headers['x-amz-target']).endsWith(`.${target}`) && dropped === 0) {
            dropped += 1;
            req.socket.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 500, upRes.headers).end(Buffer.concat(body));
        });
      });
      up.end(Buffer.concat(chunks));
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () => {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}

describe('DynamoDbPublishLedger', () => {
  it('stores the claim as an IN_PROGRESS item with its token and lease (epoch ms), then as COMPLETED', async () => {
    const tableName = await newTable();
    const now = new Date('2026-03-02T10:01:05.400Z');
    const ledger = new DynamoDbPublishLedger({ client, tableName, clock: () => now, leaseMs: 65_000 });
    const claim = claimOf(await ledger.claim(KEY));
    const inProgress = await itemOf(tableName, KEY);
    expect(inProgress[STATUS_ATTRIBUTE]).toEqual({ S: 'IN_PROGRESS' });
    expect(inProgress[CLAIM_TOKEN_ATTRIBUTE]).toEqual({ S: claim.token });
    expect(inProgress[LEASE_UNTIL_ATTRIBUTE]).toEqual({ N: String(now.getTime() + 65_000) });
    await ledger.complete(claim);
    const completed = await itemOf(tableName, KEY);
    expect(completed[STATUS_ATTRIBUTE]).toEqual({ S: 'COMPLETED' });
    expect(completed[CLAIM_TOKEN_ATTRIBUTE]).toEqual({ S: claim.token });
    expect(completed[LEASE_UNTIL_ATTRIBUTE]).toBeUndefined();
  });

  it('an item of the earlier format (a claim without status) counts as published, lease or not', async () => {
    const tableName = await newTable();
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { [LEDGER_KEY_ATTRIBUTE]: { S: KEY }, [CLAIM_TOKEN_ATTRIBUTE]: { S: 'old' }, [LEDGER_EXPIRY_ATTRIBUTE]: { N: '4102444800' } },
      }),
    );
    expect(await new DynamoDbPublishLedger({ client, tableName }).claim(KEY)).toEqual({ outcome: 'already-published' });
  });

  it('writes the TTL attribute as a Number of epoch seconds: claim time + the retention (two weeks + a day by default)', async () => {
    const tableName = await newTable();
    const now = new Date('2026-03-02T10:01:05.400Z');
    await new DynamoDbPublishLedger({ client, tableName, clock: () => now }).claim(KEY);
    const short = new DynamoDbPublishLedger({ client, tableName, clock: () => now, retentionSeconds: 3600 });
    const shortClaim = claimOf(await short.claim(`${KEY}-short`));
    const item = (key: string) => itemOf(tableName, key);
    const stored = await item(KEY);
    expect(DEFAULT_LEDGER_RETENTION_SECONDS).toBe(15 * 24 * 3600);
    // 10:01:05.400 rounds up to the next whole second.
    const claimSecond = Date.UTC(2026, 2, 2, 10, 1, 6) / 1000;
    expect(stored[LEDGER_EXPIRY_ATTRIBUTE]).toEqual({ N: String(claimSecond + 15 * 24 * 3600) });
    expect(stored[CLAIMED_AT_ATTRIBUTE]).toEqual({ S: '2026-03-02T10:01:05.400Z' });
    expect((await item(`${KEY}-short`))[LEDGER_EXPIRY_ATTRIBUTE]).toEqual({ N: String(claimSecond + 3600) });
    // Completing keeps a TTL (rewritten from the completion time).
    await short.complete(shortClaim);
    expect((await item(`${KEY}-short`))[LEDGER_EXPIRY_ATTRIBUTE]).toEqual({ N: String(claimSecond + 3600) });
  });

  it('propagates errors other than the conditional failure (here: the table does not exist)', async () => {
    const ledger = new DynamoDbPublishLedger({ client, tableName: 'no-such-table' });
    await expect(ledger.claim(KEY)).rejects.toBeInstanceOf(ResourceNotFoundException);
    const claim = { windowKey: KEY, token: 't', claimedAt: new Date(), leaseUntil: new Date() };
    await expect(ledger.complete(claim)).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(ledger.release(claim)).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(() => new DynamoDbPublishLedger({ client, tableName: 'x', retentionSeconds: 0 })).toThrow(RangeError);
    expect(() => new DynamoDbPublishLedger({ client, tableName: 'x', leaseMs: -1 })).toThrow(RangeError);
  });

  it('an SDK retry of a claim whose response was lost still owns the claim (the token makes the put idempotent)', async () => {
    const tableName = await newTable();
    const proxy = await lossyProxy('PutItem');
    try {
      const viaProxy = db.client({ endpoint: proxy.endpoint, maxAttempts: 3 });
      const claim = claimOf(await new DynamoDbPublishLedger({ client: viaProxy, tableName }).claim(KEY));
      expect(proxy.dropped()).toBe(1);
      expect((await itemOf(tableName, KEY))[CLAIM_TOKEN_ATTRIBUTE]).toEqual({ S: claim.token });
      expect((await new DynamoDbPublishLedger({ client, tableName }).claim(KEY)).outcome).toBe('held-by-other');
    } finally {
      proxy.close();
    }
  });

  it('an SDK retry of a take-over whose response was lost still owns the claim', async () => {
    const tableName = await newTable();
    let nowMs = Date.parse('2026-03-02T10:01:05Z');
    const clock = () => new Date(nowMs);
    claimOf(await new DynamoDbPublishLedger({ client, tableName, clock, leaseMs: 1_000 }).claim(KEY));
    nowMs += 1_001;
    const proxy = await lossyProxy('PutItem');
    try {
      const heir = claimOf(await new DynamoDbPublishLedger({ client: db.client({ endpoint: proxy.endpoint, maxAttempts: 3 }), tableName, clock }).claim(KEY));
      expect(proxy.dropped()).toBe(1);
      expect((await itemOf(tableName, KEY))[CLAIM_TOKEN_ATTRIBUTE]).toEqual({ S: heir.token });
    } finally {
      proxy.close();
    }
  });

  it('an SDK retry of a completion or a release whose response was lost succeeds', async () => {
    const tableName = await newTable();
    const direct = new DynamoDbPublishLedger({ client, tableName });
    const completeProxy = await lossyProxy('PutItem');
    const releaseProxy = await lossyProxy('DeleteItem');
    try {
      const toComplete = claimOf(await direct.claim(KEY));
      await new DynamoDbPublishLedger({ client: db.client({ endpoint: completeProxy.endpoint, maxAttempts: 3 }), tableName }).complete(toComplete);
      expect(completeProxy.dropped()).toBe(1);
      expect(await direct.claim(KEY)).toEqual({ outcome: 'already-published' });

      const toRelease = claimOf(await direct.claim(`${KEY}-2`));
      await new DynamoDbPublishLedger({ client: db.client({ endpoint: releaseProxy.endpoint, maxAttempts: 3 }), tableName }).release(toRelease);
      expect(releaseProxy.dropped()).toBe(1);
      expect((await direct.claim(`${KEY}-2`)).outcome).toBe('claimed');
    } finally {
      completeProxy.close();
      releaseProxy.close();
    }
  });
});

describe('clients created on first use (what the deployed handler does)', () => {
  const ENV = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;
  it('without an injected client, the ledger and the publisher create theirs from the default chain on first use', async () => {
    const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
    // The default DynamoDB client honours the service-specific endpoint variable (SDK "service-specific endpoints").
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'eu-west-1' });
    try {
      const tableName = await newTable();
      const publisher = new CloudWatchBusinessMetricsPublisher({ namespace: 'Orders/Business', ledger: new DynamoDbPublishLedger({ tableName }) });
      cw.on(PutMetricDataCommand).resolves({});
      await expect(publisher.publish({ windowKey: KEY, data: DATA })).resolves.toBe('published');
      await expect(publisher.publish({ windowKey: KEY, data: DATA })).resolves.toBe('already-published');
      expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(1);
      expect((await itemOf(tableName, KEY))?.[STATUS_ATTRIBUTE]?.S).toBe('COMPLETED');
    } finally {
      for (const k of ENV) if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
});

describe('CloudWatchBusinessMetricsPublisher with the DynamoDB ledger', () => {
  it('publishes a window once across publisher instances; a failed PutMetricData releases the claim for the retry', async () => {
    const tableName = await newTable();
    const publisherIn = (dynamo: DynamoDBClient) =>
      new CloudWatchBusinessMetricsPublisher({
        client: new CloudWatchClient({ region: 'eu-west-1', maxAttempts: 1 }),
        namespace: 'Orders/Business',
        ledger: new DynamoDbPublishLedger({ client: dynamo, tableName }),
      });
    cw.on(PutMetricDataCommand).rejectsOnce(Object.assign(new Error('Internal'), { name: 'InternalServiceFault', $fault: 'server' })).resolves({});
    await expect(publisherIn(client).publish({ windowKey: KEY, data: DATA })).rejects.toThrow('Internal');
    expect(await publisherIn(db.client()).publish({ windowKey: KEY, data: DATA })).toBe('published');
    expect(await publisherIn(db.client()).publish({ windowKey: KEY, data: DATA })).toBe('already-published');
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(2);
  });

  it('a window claimed by another container (lease valid) fails the publish, nothing is sent; after the lease it is published once', async () => {
    const tableName = await newTable();
    let nowMs = Date.now();
    const clock = () => new Date(nowMs);
    cw.on(PutMetricDataCommand).resolves({});
    const publisher = () =>
      new CloudWatchBusinessMetricsPublisher({
        client: new CloudWatchClient({ region: 'eu-west-1', maxAttempts: 1 }),
        namespace: 'Orders/Business',
        ledger: new DynamoDbPublishLedger({ client: db.client(), tableName, clock }),
      });
    // A container claimed the window, then died before PutMetricData.
    claimOf(await new DynamoDbPublishLedger({ client, tableName, clock }).claim(KEY, { leaseMs: 30_000 }));
    await expect(publisher().publish({ windowKey: KEY, data: DATA })).rejects.toBeInstanceOf(WindowClaimHeldError);
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    nowMs += 30_001;
    expect(await publisher().publish({ windowKey: KEY, data: DATA }, { leaseMs: 30_000 })).toBe('published');
    expect(await publisher().publish({ windowKey: KEY, data: DATA })).toBe('already-published');
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it('a ledger error fails the publish before anything is sent to CloudWatch', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const publisher = new CloudWatchBusinessMetricsPublisher({
      client: new CloudWatchClient({ region: 'eu-west-1' }),
      namespace: 'Orders/Business',
      ledger: new DynamoDbPublishLedger({ client, tableName: 'no-such-table' }),
    });
    await expect(publisher.publish({ windowKey: KEY, data: DATA })).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});
