/**
 * `<dataDir>/runner.json`: how the ops CLI finds a running local pipeline (endpoints, streams,
 * consumers) and reads its statistics. Rewritten atomically (writeJsonFileAtomically), so a reader
 * never sees half a file.
 */
import { writeJsonFileAtomically } from './esm/atomic-json-file';

export interface RunnerStateFile {
  pid: number;
  state: 'starting' | 'running' | 'draining' | 'stopped';
  /** Seed of the synthetic upstream (`npm start -- --seed <n>` replays the run's events). */
  seed: number;
  startedAt: string;
  updatedAt: string;
  dataDir: string;
  kinesisEngine: string;
  kinesisEndpoint: string;
  lambdaEndpoint: string;
  /** dynalite holding the idempotency tables (ops redrive reads what already took effect). */
  dynamodbEndpoint?: string;
  /** Idempotency table by consumer or plain function. */
  idempotencyTables?: Record<string, string>;
  region: string;
  streams: Record<string, { arn: string; shards: string[] }>;
  consumers: Record<string, { functionArn: string; functionName: string; stream: string; streamArn: string; stats: unknown }>;
  functions: Record<string, { functionArn: string; functionName: string; stats: unknown }>;
  /** The local dashboard of this run (local/dashboard/), when it serves one. */
  dashboard?: { url: string };
  upstream?: unknown;
  summary?: unknown;
}

export async function writeRunnerState(path: string, state: RunnerStateFile): Promise<void> {
  await writeJsonFileAtomically(path, state);
}
