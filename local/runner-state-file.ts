/**
 * `<dataDir>/runner.json`: how the ops CLI finds a running local pipeline (endpoints, streams,
 * consumers) and reads its statistics. Rewritten atomically (temp file + rename), so a reader
 * never sees half a file.
 */
import { rename, writeFile } from 'node:fs/promises';

export interface RunnerStateFile {
  pid: number;
  state: 'starting' | 'running' | 'draining' | 'stopped';
  startedAt: string;
  updatedAt: string;
  dataDir: string;
  kinesisEngine: string;
  kinesisEndpoint: string;
  lambdaEndpoint: string;
  region: string;
  streams: Record<string, { arn: string; shards: string[] }>;
  consumers: Record<string, { functionArn: string; functionName: string; stream: string; streamArn: string; stats: unknown }>;
  functions: Record<string, { functionArn: string; functionName: string; stats: unknown }>;
  upstream?: unknown;
  summary?: unknown;
}

export async function writeRunnerState(path: string, state: RunnerStateFile): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, 'utf8');
  await rename(temp, path);
}
