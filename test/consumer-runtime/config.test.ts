/** Options and environment: sinks chosen from operator config, invalid config rejected at cold start. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FileQuarantineSink,
  RuntimeConfigError,
  SqsQuarantineSink,
  createKinesisHandler,
  localQuarantineFile,
  quarantineSinkFromEnv,
  type QuarantineRecord,
} from '../../consumers/runtime/index';
import { registry, type OrderEvent } from '../../schemas/index';
import { LogCapture, kinesisEvent, lambdaContext } from './helpers';

describe('runtime configuration', () => {
  it('picks the quarantine sink from the environment', () => {
    expect(quarantineSinkFromEnv('c', { QUARANTINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q' })).toBeInstanceOf(SqsQuarantineSink);
    expect(quarantineSinkFromEnv('c', { LOCAL_DATA_DIR: '/tmp/x' })).toBeInstanceOf(FileQuarantineSink);
    expect(() => quarantineSinkFromEnv('c', {})).toThrow(RuntimeConfigError);
  });

  it('rejects invalid options and environment when the handler is created', () => {
    const base = { registry, consumerName: 'c', handlers: {}, logDestination: new LogCapture(), metrics: false as const };
    expect(() => createKinesisHandler<OrderEvent>({ ...base, concurrency: 0, quarantine: { write: async () => [] } })).toThrow(/concurrency/);
    expect(() => createKinesisHandler<OrderEvent>({ ...base })).toThrow(/QUARANTINE_QUEUE_URL/);
    expect(() => createKinesisHandler<OrderEvent>({ ...base, consumerName: undefined, quarantine: { write: async () => [] } })).toThrow(/CONSUMER_NAME/);
  });

  it('writes local quarantine records as NDJSON under LOCAL_DATA_DIR', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quarantine-'));
    try {
      const handler = createKinesisHandler<OrderEvent>({
        registry,
        consumerName: 'local-consumer',
        quarantine: quarantineSinkFromEnv('local-consumer', { LOCAL_DATA_DIR: dir }),
        logDestination: new LogCapture(),
        metrics: false,
        handlers: {},
      });
      await handler(kinesisEvent(['one', 'two']), lambdaContext());
      const lines = (await readFile(localQuarantineFile(dir, 'local-consumer'), 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as QuarantineRecord).error.kind)).toEqual(['invalid-json', 'invalid-json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
