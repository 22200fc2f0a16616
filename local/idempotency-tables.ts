/**
 * The idempotency tables of consumers and plain functions under `npm start`: the same DynamoDB store
 * the deployed stack gets (pipeline option `idempotencyTable`), on dynalite (a DynamoDB emulator) in-process on a free
 * port. Functions reach it through AWS_ENDPOINT_URL_DYNAMODB (honoured by the AWS SDK). The tables
 * live in memory, or in the data folder when the stream outlives the runner (`--persist-stream`,
 * `--endpoint`), so a restarted runner still knows what took effect.
 */
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { LOCAL_CREDENTIALS } from '../kinesis/client';
import type { PipelineDefinition } from '../pipeline/definition-schema';
import { idempotencyTableName } from '../pipeline/idempotency-table';
import { LEDGER_KEY_ATTRIBUTE } from '../pipeline/publish-ledger-table';

export interface LocalIdempotencyTables {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Table of a consumer or plain function declaring `idempotencyTable`, else undefined. */
  tableName(name: string): string | undefined;
  stop(): Promise<void>;
}

/** Starts dynalite and creates a table per consumer or function that declares one; undefined when none does. */
export async function startLocalIdempotencyTables(options: {
  definition: PipelineDefinition;
  region: string;
  /** Keep the tables in this folder (LevelDB) across restarts. */
  persistDir?: string;
}): Promise<LocalIdempotencyTables | undefined> {
  const { consumers: declaredConsumers, functions } = options.definition;
  const owners = [...Object.entries(declaredConsumers), ...Object.entries(functions)].filter(([, c]) => c.idempotencyTable).map(([name]) => name);
  if (owners.length === 0) return undefined;
  if (options.persistDir !== undefined) await mkdir(options.persistDir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.persistDir !== undefined ? { path: options.persistDir } : {}) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  const client = new DynamoDBClient({ endpoint, region: options.region, credentials: LOCAL_CREDENTIALS });
  try {
    for (const owner of owners) {
      try {
        // The table as infra/constructs/idempotency-table.ts declares it (dynalite has no TTL, so items stay).
        await client.send(
          new CreateTableCommand({
            TableName: idempotencyTableName(owner),
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, AttributeType: 'S' }],
            KeySchema: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error; // kept from an earlier run
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  const names = new Set(owners);
  return { endpoint, tableName: (name) => (names.has(name) ? idempotencyTableName(name) : undefined), stop };
}
