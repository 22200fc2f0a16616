/** Shared helpers of the producer tests. */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll } from 'vitest';
import { createKinesisClient } from '../../kinesis/client';
import { decodeAggregate, isAggregate } from '../../kinesis/kpl';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas/index';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { readAllRecords, type StoredRecord } from '../support/read-stream';
import { createLogger, type Logger } from '../../telemetry/logger';
import { Writable } from 'node:stream';

export function quietLogger(): Logger {
  return createLogger({ name: 'producer-test', level: 'silent' });
}

/** A logger whose JSON lines are kept in `lines`. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
      done();
    },
  });
  return { logger: createLogger({ name: 'producer-test', level: 'debug', destination }), lines };
}

export interface StoredUserRecord {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number | undefined;
  /** Partition key of the Kinesis record that carried it. */
  carrierKey: string;
  partitionKey: string;
  data: Uint8Array;
  aggregated: boolean;
}

/** Everything in the stream, aggregates unpacked with kinesis/kpl.ts, in per-shard order. */
export async function readUserRecords(client: KinesisClient, stream: string): Promise<StoredUserRecord[]> {
  return unpack(await readAllRecords(client, stream));
}

export function unpack(records: readonly StoredRecord[]): StoredUserRecord[] {
  const out: StoredUserRecord[] = [];
  for (const r of records) {
    if (isAggregate(r.data)) {
      for (const u of decodeAggregate(r.data)) {
        out.push({
          shardId: r.shardId,
          sequenceNumber: r.sequenceNumber,
          subSequenceNumber: u.subSequenceNumber,
          carrierKey: r.partitionKey,
          partitionKey: u.partitionKey,
          data: u.data,
          aggregated: true,
        });
      }
    } else {
      out.push({ ...r, subSequenceNumber: undefined, carrierKey: r.partitionKey, aggregated: false });
    }
  }
  return out;
}

export function eventId(data: Uint8Array): string {
  return (JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id;
}

/** `perKey` order.paid events for each of `keys` order ids, interleaved round-robin (put order). */
export function interleavedEvents(keys: number, perKey: number, seed = 7): OrderEvent[] {
  const f = createFixtures({ seed });
  const ids = Array.from({ length: keys }, (_, i) => `ord-${seed}-${i.toString(36).padStart(4, '0')}`);
  const out: OrderEvent[] = [];
  for (let round = 0; round < perKey; round++) for (const orderId of ids) out.push(f.orderPaid({ orderId }));
  return out;
}

/** Event ids per partition key, in the order given. */
export function idsByKey(items: readonly { key: string; id: string }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, id } of items) {
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    list.push(id);
  }
  return map;
}

let streamCounter = 0;
export function uniqueStreamName(prefix: string): string {
  streamCounter += 1;
  return `${prefix}-${process.pid}-${streamCounter}`;
}

export interface TestKinesis {
  /** `http://127.0.0.1:<port>` of the kinesalite. */
  readonly endpoint: string;
  /** A client on it (SDK defaults). */
  readonly client: KinesisClient;
}

/** Registers beforeAll/afterAll: one kinesalite and a client on it, for the file or describe block it is called in. */
export function useKinesalite(): TestKinesis {
  let emulator: EmbeddedKinesis | undefined;
  let client: KinesisClient | undefined;
  beforeAll(async () => {
    emulator = await startKinesalite();
    client = createKinesisClient({ endpoint: emulator.endpoint });
  });
  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('kinesalite runs only between beforeAll and afterAll');
    return value;
  };
  return {
    get endpoint() {
      return started(emulator).endpoint;
    },
    get client() {
      return started(client);
    },
  };
}
