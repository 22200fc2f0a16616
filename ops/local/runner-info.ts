/**
 * The local data folder the local runner writes (team contract): runner.json (where the running
 * pipeline's Kinesis and Lambda endpoints are), on-failure/, quarantine/, metrics/, invocations/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

const runnerInfoSchema = z.looseObject({
  pid: z.number().optional(),
  startedAt: z.string().optional(),
  kinesisEndpoint: z.string(),
  lambdaEndpoint: z.string().optional(),
  region: z.string(),
  streams: z.record(z.string(), z.looseObject({ arn: z.string() })).default({}),
  consumers: z.record(z.string(), z.looseObject({ functionArn: z.string().optional() })).default({}),
});

export type RunnerInfo = z.output<typeof runnerInfoSchema>;

export const RUNNER_FILE = 'runner.json';

export function onFailureFile(dataDir: string, consumer: string): string {
  return join(dataDir, 'on-failure', `${consumer}.ndjson`);
}

export function quarantineFile(dataDir: string, consumer: string): string {
  return join(dataDir, 'quarantine', `${consumer}.ndjson`);
}

/** Reads runner.json; a clear error when the runner is not there. */
export async function readRunnerInfo(dataDir: string): Promise<RunnerInfo> {
  const path = join(dataDir, RUNNER_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`no local runner found: ${path} does not exist (start it with \`npm start\`, or pass --data-dir)`);
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = runnerInfoSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${path} is not a runner file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Whether the process that wrote runner.json is still alive. */
export function runnerAlive(info: RunnerInfo): boolean {
  if (info.pid === undefined) return false;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
