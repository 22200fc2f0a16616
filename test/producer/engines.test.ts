/** The producer against both engines the project emulates Kinesis with. */
import { describe, expect, it } from 'vitest';
import { createKinesisClient, ensureStream } from '../../kinesis/client';
import { KinesisProducer } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { ENGINES } from '../support/emulators';
import { eventId, quietLogger, readUserRecords } from './helpers';

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
