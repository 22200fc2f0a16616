import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient, ensureStream, listAllShards, openShards, waitForStreamActive } from '../../kinesis/client';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';

describe('createKinesisClient', () => {
  it('uses HTTP/1.1 and local credentials for an http:// endpoint, the region from AWS_REGION or us-east-1', async () => {
    const saved = { region: process.env['AWS_REGION'], key: process.env['AWS_ACCESS_KEY_ID'] };
    try {
      delete process.env['AWS_ACCESS_KEY_ID'];
      process.env['AWS_REGION'] = 'eu-west-1';
      const local = createKinesisClient({ endpoint: 'http://127.0.0.1:1' });
      expect(local.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
      expect(await local.config.region()).toBe('eu-west-1');
      expect((await local.config.credentials()).accessKeyId).toBe('local');
      delete process.env['AWS_REGION'];
      expect(await createKinesisClient({ endpoint: 'http://127.0.0.1:1' }).config.region()).toBe('us-east-1');
      expect(await createKinesisClient({ region: 'ap-south-1' }).config.region()).toBe('ap-south-1');
      // AWS endpoints keep the SDK's default (HTTP/2) handler.
      expect(createKinesisClient({ region: 'us-east-1' }).config.requestHandler).not.toBeInstanceOf(NodeHttpHandler);
    } finally {
      if (saved.region === undefined) delete process.env['AWS_REGION'];
      else process.env['AWS_REGION'] = saved.region;
      if (saved.key !== undefined) process.env['AWS_ACCESS_KEY_ID'] = saved.key;
    }
  });
});

describe('stream helpers against kinesalite', () => {
  let emulator: EmbeddedKinesis;
  beforeAll(async () => {
    emulator = await startKinesalite();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('ensureStream creates once, is idempotent, and waits for ACTIVE; listAllShards lists every shard', async () => {
    const client = createKinesisClient({ endpoint: emulator.endpoint });
    await ensureStream(client, { name: 'helpers', shardCount: 3 });
    await ensureStream(client, { name: 'helpers', shardCount: 3 });
    await waitForStreamActive(client, 'helpers');
    const shards = await listAllShards(client, 'helpers');
    expect(shards.map((s) => s.ShardId)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    expect(openShards(shards)).toHaveLength(3);
    client.destroy();
  });
});
