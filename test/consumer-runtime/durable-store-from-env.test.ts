/**
 * consumers/runtime/durable-store-from-env.ts: the idempotency table a consumer reads from its
 * environment (IDEMPOTENCY_TABLE, IDEMPOTENCY_RETENTION_SECONDS) and the DynamoDB store it creates with
 * the SDK's default configuration (here: dynalite through AWS_ENDPOINT_URL_DYNAMODB).
 * DynamoDB table names: 3-255 characters of a-z A-Z 0-9 _ - . (DynamoDB Developer Guide, "Naming rules").
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDynamoDbDurableStore, durableTableFromEnv } from '../../consumers/runtime/durable-store-from-env';
import { DEFAULT_DURABLE_RETENTION_SECONDS, eventKey } from '../../consumers/runtime/dynamodb-durable-store';
import { RuntimeConfigError } from '../../consumers/runtime/errors';
import { EMULATOR_CREDENTIALS, useDynalite } from '../support/dynalite';

const tableError = (value: string) =>
  new RuntimeConfigError(`IDEMPOTENCY_TABLE="${value}" must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .) or a table ARN`);
const retentionError = (value: string) =>
  new RuntimeConfigError(`IDEMPOTENCY_RETENTION_SECONDS="${value}" must be a whole number of seconds, at least 60`);

describe('durableTableFromEnv', () => {
  it('no table configured (unset or blank): undefined, whatever the retention says', () => {
    expect(durableTableFromEnv({})).toBeUndefined();
    expect(durableTableFromEnv({ IDEMPOTENCY_TABLE: '   ' })).toBeUndefined();
    expect(durableTableFromEnv({ IDEMPOTENCY_TABLE: '', IDEMPOTENCY_RETENTION_SECONDS: 'nonsense' })).toBeUndefined();
  });

  it.each([
    ['abc', 'abc'],
    [' orders.idempotency_v-1 ', 'orders.idempotency_v-1'],
    ['t'.repeat(255), 't'.repeat(255)],
    ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders-idempotency', 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders-idempotency'],
    ['arn:aws-cn:dynamodb:cn-north-1:123456789012:table/abc', 'arn:aws-cn:dynamodb:cn-north-1:123456789012:table/abc'],
  ])('accepts the table %j (trimmed), without a retention: retentionSeconds undefined', (raw, name) => {
    expect(durableTableFromEnv({ IDEMPOTENCY_TABLE: raw })).toStrictEqual({ tableName: name, retentionSeconds: undefined });
  });

  it.each([
    'ab',
    't'.repeat(256),
    'orders/idempotency',
    'orders idempotency',
    'arn:aws:dynamodb:eu-west-1:12345678901:table/abc',
    'arn:aws:dynamodb:eu-west-1:123456789012:table/ab',
    'arn:aws:dynamodb:eu-west-1:123456789012:stream/abc',
    'arn:aws:kinesis:eu-west-1:123456789012:table/abc',
    'prefix arn:aws:dynamodb:eu-west-1:123456789012:table/abc',
    'arn:aws:dynamodb:eu-west-1:123456789012:table/abc/',
  ])('refuses %j with the variable, the value and the rule', (value) => {
    expect(() => durableTableFromEnv({ IDEMPOTENCY_TABLE: value })).toThrow(tableError(value));
    let thrown: unknown;
    try {
      durableTableFromEnv({ IDEMPOTENCY_TABLE: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RuntimeConfigError);
  });

  it.each([
    ['60', 60],
    [' 86400 ', 86_400],
    ['', undefined],
    ['  ', undefined],
  ])('retention %j -> %j', (raw, seconds) => {
    expect(durableTableFromEnv({ IDEMPOTENCY_TABLE: 'abc', IDEMPOTENCY_RETENTION_SECONDS: raw })).toStrictEqual({ tableName: 'abc', retentionSeconds: seconds });
  });

  it.each(['59', '0', '-60', '60.5', 'abc', '1e9x'])('refuses the retention %j', (raw) => {
    expect(() => durableTableFromEnv({ IDEMPOTENCY_TABLE: 'abc', IDEMPOTENCY_RETENTION_SECONDS: raw })).toThrow(retentionError(raw));
  });
});

describe('createDynamoDbDurableStore: the SDK default configuration (endpoint, region, credentials from the environment)', () => {
  const dynalite = useDynalite('from-env');
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const stubSdkEnv = () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.db().endpoint);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', EMULATOR_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', EMULATOR_CREDENTIALS.secretAccessKey);
  };
  const expiresAtOf = async (tableName: string, eventId: string): Promise<number> => {
    const item = (await dynalite.db().client().send(new GetItemCommand({ TableName: tableName, Key: { ledgerKey: { S: eventKey(eventId) } }, ConsistentRead: true }))).Item;
    return Number(item?.['expiresAt']?.N);
  };

  it('claims in the named table, with the configured retention as the items\' TTL', async () => {
    stubSdkEnv();
    const tableName = await dynalite.newLedgerTable();
    const store = await createDynamoDbDurableStore({ tableName, retentionSeconds: 3600 });
    const before = Math.floor(Date.now() / 1000);
    const first = await store.claim('e-1', 30_000);
    expect(first.outcome).toBe('claimed');
    if (first.outcome !== 'claimed') return;
    await store.complete(first.claim);
    // A second store on the same table (another container) sees the effect as done.
    const other = await createDynamoDbDurableStore({ tableName, retentionSeconds: 3600 });
    expect(await other.claim('e-1', 30_000)).toStrictEqual({ outcome: 'completed' });
    const after = Math.ceil(Date.now() / 1000) + 1;
    const expiresAt = await expiresAtOf(tableName, 'e-1');
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3600);
    expect(expiresAt).toBeLessThanOrEqual(after + 3600);
  });

  it('without a retention the store uses its default', async () => {
    stubSdkEnv();
    const tableName = await dynalite.newLedgerTable();
    const store = await createDynamoDbDurableStore({ tableName, retentionSeconds: undefined });
    const before = Math.floor(Date.now() / 1000);
    expect((await store.claim('e-2', 30_000)).outcome).toBe('claimed');
    const after = Math.ceil(Date.now() / 1000) + 1;
    const expiresAt = await expiresAtOf(tableName, 'e-2');
    expect(expiresAt).toBeGreaterThanOrEqual(before + DEFAULT_DURABLE_RETENTION_SECONDS);
    expect(expiresAt).toBeLessThanOrEqual(after + DEFAULT_DURABLE_RETENTION_SECONDS);
  });
});
