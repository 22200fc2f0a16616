/**
 * The one place that creates the DynamoDB durable store, loaded with dynamic imports so the DynamoDB
 * client is loaded only by consumers that have a table (IDEMPOTENCY_TABLE set: deployed stacks with
 * the consumer option `idempotencyTable`, and the local runner on dynalite).
 */
import { IDEMPOTENCY_RETENTION_VARIABLE, IDEMPOTENCY_TABLE_VARIABLE } from '../../pipeline/idempotency-table';
import type { DurableRecordStore } from './durable-store';
import { RuntimeConfigError } from './errors';

type Env = Readonly<Record<string, string | undefined>>;

/** The table named by the environment, or undefined when none is configured. Throws RuntimeConfigError on a bad value. */
export function durableTableFromEnv(env: Env): { tableName: string; retentionSeconds: number | undefined } | undefined {
  const tableName = env[IDEMPOTENCY_TABLE_VARIABLE]?.trim();
  if (tableName === undefined || tableName === '') return undefined;
  if (!/^([a-zA-Z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]{3,255})$/.test(tableName)) {
    throw new RuntimeConfigError(`${IDEMPOTENCY_TABLE_VARIABLE}="${tableName}" must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .) or a table ARN`);
  }
  const raw = env[IDEMPOTENCY_RETENTION_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return { tableName, retentionSeconds: undefined };
  const retentionSeconds = Number(raw);
  if (!Number.isInteger(retentionSeconds) || retentionSeconds < 60) {
    throw new RuntimeConfigError(`${IDEMPOTENCY_RETENTION_VARIABLE}="${raw}" must be a whole number of seconds, at least 60`);
  }
  return { tableName, retentionSeconds };
}

/** Creates the DynamoDB store (SDK default credentials, region and endpoint, e.g. AWS_ENDPOINT_URL_DYNAMODB locally). */
export async function createDynamoDbDurableStore(table: { tableName: string; retentionSeconds: number | undefined }): Promise<DurableRecordStore> {
  const [{ DynamoDBClient }, { DynamoDbDurableStore }] = await Promise.all([import('./dynamodb-sdk'), import('./dynamodb-durable-store')]);
  return new DynamoDbDurableStore({
    client: new DynamoDBClient({}),
    tableName: table.tableName,
    ...(table.retentionSeconds !== undefined ? { retentionSeconds: table.retentionSeconds } : {}),
  });
}
