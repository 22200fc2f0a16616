/**
 * DynamoDbPublishLedger against dynalite (a real DynamoDB emulator, in-process): the conditional put
 * decides who publishes a window, across ledger instances (containers) and concurrent claims.
 * CloudWatch is the only mocked service (aws-sdk-client-mock).
 */
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BusinessMetricDatum } from '../../consumers/order-metrics/business-metrics';
import { CloudWatchBusinessMetricsPublisher } from '../../consumers/order-metrics/cloudwatch-publisher';
import {
  CLAIMED_AT_ATTRIBUTE,
  DEFAULT_LEDGER_RETENTION_SECONDS,
  DynamoDbPublishLedger,
} from '../../consumers/order-metrics/dynamodb-publish-ledger';
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

describe('DynamoDbPublishLedger', () => {
  it('claims a key once; a release frees it for the next claim', async () => {
    const ledger = new DynamoDbPublishLedger({ client, tableName: await newTable() });
    expect(await ledger.claim(KEY)).toBe(true);
    expect(await ledger.claim(KEY)).toBe(false);
    expect(await ledger.claim(`${KEY}-other`)).toBe(true);
    await ledger.release(KEY);
    expect(await ledger.claim(KEY)).toBe(true);
    expect(await ledger.claim(KEY)).toBe(false);
  });

  it('a claim made by one instance (container) holds for a new instance with its own client', async () => {
    const tableName = await newTable();
    expect(await new DynamoDbPublishLedger({ client, tableName }).claim(KEY)).toBe(true);
    const otherContainer = new DynamoDbPublishLedger({ client: db.client(), tableName });
    expect(await otherContainer.claim(KEY)).toBe(false);
  });

  it('of two concurrent claims on the same key exactly one wins, for every key', async () => {
    const tableName = await newTable();
    const a = new DynamoDbPublishLedger({ client: db.client(), tableName });
    const b = new DynamoDbPublishLedger({ client: db.client(), tableName });
    const keys = Array.from({ length: 25 }, (_, i) => `${KEY}#${i}`);
    const results = await Promise.all(keys.map((key) => Promise.all([a.claim(key), b.claim(key)])));
    for (const pair of results) expect(pair.filter(Boolean)).toHaveLength(1);
    // And afterwards nobody can claim any of them.
    expect(await Promise.all(keys.map((key) => new DynamoDbPublishLedger({ client, tableName }).claim(key)))).toEqual(keys.map(() => false));
  });

  it('writes the TTL attribute as a Number of epoch seconds: claim time + the retention (two weeks + a day by default)', async () => {
    const tableName = await newTable();
    const now = new Date('2026-03-02T10:01:05.400Z');
    await new DynamoDbPublishLedger({ client, tableName, clock: () => now }).claim(KEY);
    await new DynamoDbPublishLedger({ client, tableName, clock: () => now, retentionSeconds: 3600 }).claim(`${KEY}-short`);
    const item = async (key: string) =>
      (await client.send(new GetItemCommand({ TableName: tableName, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: key } }, ConsistentRead: true }))).Item!;
    const stored = await item(KEY);
    expect(DEFAULT_LEDGER_RETENTION_SECONDS).toBe(15 * 24 * 3600);
    // 10:01:05.400 rounds up to the next whole second.
    const claimSecond = Date.UTC(2026, 2, 2, 10, 1, 6) / 1000;
    expect(stored[LEDGER_EXPIRY_ATTRIBUTE]).toEqual({ N: String(claimSecond + 15 * 24 * 3600) });
    expect(stored[CLAIMED_AT_ATTRIBUTE]).toEqual({ S: '2026-03-02T10:01:05.400Z' });
    expect((await item(`${KEY}-short`))[LEDGER_EXPIRY_ATTRIBUTE]).toEqual({ N: String(claimSecond + 3600) });
  });

  it('propagates errors other than the conditional failure (here: the table does not exist)', async () => {
    const ledger = new DynamoDbPublishLedger({ client, tableName: 'no-such-table' });
    await expect(ledger.claim(KEY)).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(ledger.release(KEY)).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(() => new DynamoDbPublishLedger({ client, tableName: 'x', retentionSeconds: 0 })).toThrow(RangeError);
  });

  it('an SDK retry of a claim whose response was lost still owns the claim (the token makes the put idempotent)', async () => {
    const tableName = await newTable();
    // A proxy that forwards the first PutItem and drops the connection instead of answering: written,
    // but the client cannot know, so the SDK retries the same request.
    let dropped = 0;
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const up = request(db.endpoint, { method: req.method, path: req.url, headers: req.headers }, (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            if (String(req.headers['x-amz-target']).endsWith('.PutItem') && dropped === 0) {
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
    try {
      const viaProxy = db.client({ endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, maxAttempts: 3 });
      expect(await new DynamoDbPublishLedger({ client: viaProxy, tableName }).claim(KEY)).toBe(true);
      expect(dropped).toBe(1);
      expect(await new DynamoDbPublishLedger({ client, tableName }).claim(KEY)).toBe(false);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
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
