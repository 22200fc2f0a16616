/**
 * The Kinesis the local pipeline runs on: kinesalite in-process (default), kinesis-mock
 * (`kinesis-local`, LocalStack's engine) as a child process, or any existing endpoint
 * (a LocalStack the user started, or AWS itself).
 */
import { mkdir } from 'node:fs/promises';
import { startKinesalite, startKinesisLocal } from '../kinesis/embedded';

export type KinesisEngineName = 'kinesalite' | 'kinesis-local';

export interface KinesisEngineOptions {
  engine?: KinesisEngineName;
  /** Use this endpoint instead of starting an engine. */
  endpoint?: string;
  /** kinesalite only: keep streams and records in this folder (leveldb) across restarts. */
  persistDir?: string;
  region: string;
}

export interface KinesisEngine {
  /** `kinesalite`, `kinesis-local` or `endpoint`. */
  readonly kind: KinesisEngineName | 'endpoint';
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startKinesisEngine(options: KinesisEngineOptions): Promise<KinesisEngine> {
  if (options.endpoint !== undefined) {
    return { kind: 'endpoint', endpoint: options.endpoint, stop: async () => undefined };
  }
  if (options.engine === 'kinesis-local') {
    // Own process group: Ctrl-C must reach the runner (which drains), not kill the engine under it.
    const engine = await startKinesisLocal({ region: options.region, detached: true });
    return { kind: 'kinesis-local', endpoint: engine.endpoint, stop: () => engine.stop() };
  }
  if (options.persistDir !== undefined) await mkdir(options.persistDir, { recursive: true });
  const engine = await startKinesalite(options.persistDir !== undefined ? { path: options.persistDir } : {});
  return { kind: 'kinesalite', endpoint: engine.endpoint, stop: () => engine.stop() };
}
