/** The producer against both engines the project emulates Kinesis with. */
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createKinesisClient, ensureStream } from '../../kinesis/client';
import { KinesisProducer } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { ENGINES, startKinesisLocal } from '../support/emulators';
import { capturingLogger, eventId, quietLogger, readUserRecords } from './helpers';

describe.each(ENGINES)('on $name', (engine) => {
  it('starts on a free port and takes plain and aggregated batches from the producer', async () => {
    const emulator = await engine.start();
    const client = createKinesisClient({ endpoint: emulator.endpoint });
    try {
      expect(emulator.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emulator.endpoint.endsWith(':4567')).toBe(false);
      await ensureStream(client, { name: 'engines', shardCount: 2 });
      const events = createFixtures({ seed: 31 }).take(300);
      for (const aggregation of [false, true]) {
        const p = new KinesisProducer({ streamName: 'engines', endpoint: emulator.endpoint, aggregation, logger: quietLogger() });
        await Promise.all(events.map((e) => p.put(e)));
        await p.close();
      }
      const ids = (await readUserRecords(client, 'engines')).map((u) => eventId(u.data));
      expect(ids).toHaveLength(600);
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    } finally {
      client.destroy();
      await emulator.stop();
    }
  });
});

// kinesis-mock (the engine inside LocalStack) knows StreamARN; kinesalite predates it.
describe('on kinesis-local, addressed by stream ARN', () => {
  it('StreamARN (arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+): PutRecords and ListShards go by ARN, plain and aggregated', async () => {
    const emulator = await startKinesisLocal();
    const client = createKinesisClient({ endpoint: emulator.endpoint });
    try {
      await ensureStream(client, { name: 'by-arn', shardCount: 2 });
      const arn = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'by-arn' }))).StreamDescriptionSummary!.StreamARN!;
      expect(arn).toMatch(/^arn:aws:kinesis:[^:]+:\d{12}:stream\/by-arn$/);
      const events = createFixtures({ seed: 32 }).take(100);
      const { logger, lines } = capturingLogger();
      for (const aggregation of [false, true]) {
        const p = new KinesisProducer({ streamName: arn, endpoint: emulator.endpoint, aggregation, logger });
        await Promise.all(events.map((e) => p.put(e)));
        await p.close();
        expect(p.stats()).toMatchObject({ written: 100, failed: 0 });
      }
      // The aggregating producer loaded its shard map by ARN (it logs when ListShards fails).
      expect(lines.some((l) => l.includes('"msg":"shard map loaded"'))).toBe(true);
      expect(lines.some((l) => l.includes('ListShards failed'))).toBe(false);
      const ids = (await readUserRecords(client, 'by-arn')).map((u) => eventId(u.data));
      expect(ids).toHaveLength(200);
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    } finally {
      client.destroy();
      await emulator.stop();
    }
  });
});
