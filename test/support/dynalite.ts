/**
 * dynalite (a DynamoDB emulator on LevelDB, by the author of kinesalite) in-process on a free port,
 * with a client for it and the publish ledger table as the stack declares it (partition key
 * `ledgerKey`, String). dynalite has no UpdateTimeToLive and never expires items, so tests read the
 * TTL attribute written rather than waiting for a deletion.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../kinesis/client';
import { LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';

export interface EmbeddedDynamoDb {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  client(options?: { maxAttempts?: number; endpoint?: string }): DynamoDBClient;
  stop(): Promise<void>;
}

/** The same placeholder credentials every local AWS client here uses. */
export const EMULATOR_CREDENTIALS = LOCAL_CREDENTIALS;

export async function startDynalite(): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    client(options = {}) {
      // The DynamoDB client's default handler is HTTP/1.1 (NodeHttpHandler): plain http works as is.
      const client = new DynamoDBClient({
        endpoint: options.endpoint ?? endpoint,
        region: 'eu-west-1',
        credentials: EMULATOR_CREDENTIALS,
        ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      });
      clients.push(client);
      return client;
    },
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        for (const c of clients) c.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      return stopped;
    },
  };
}

/** The ledger table as infra declares it (PAY_PER_REQUEST, hash key `ledgerKey` String). */
export async function createLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: LEDGER_KEY_ATTRIBUTE, KeyType: 'HASH' }],
    }),
  );
}

/**
 * One dynalite for the calling test file (started before its tests, stopped after them), and fresh
 * ledger tables in it: `newLedgerTable()` returns `<prefix>-1`, `<prefix>-2`, ...
 */
export function useDynalite(prefix: string): { readonly db: () => EmbeddedDynamoDb; newLedgerTable(): Promise<string> } {
  let db: EmbeddedDynamoDb | undefined;
  let tables = 0;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(async () => {
    await db?.stop();
  });
  const started = (): EmbeddedDynamoDb => {
    if (db === undefined) throw new Error('useDynalite: dynalite is started in beforeAll; use it inside a test');
    return db;
  };
  return {
    db: started,
    async newLedgerTable() {
      const name = `${prefix}-${++tables}`;
      await createLedgerTable(started().client(), name);
      return name;
    },
  };
}
