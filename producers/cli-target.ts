/**
 * Where kinesis-produce writes: the running local pipeline (`--local`, found through its runner.json,
 * as `ops --local` finds it), or an endpoint / AWS, for which credentials are checked up front.
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { createKinesisClient, type KinesisClientOptions } from '../kinesis/client';
import { readRunnerInfo, runnerAlive } from '../ops/local/runner-info';

/** The runner's default data folder: `.data` in the project root (as `npm start` and `ops` use it). */
const DEFAULT_DATA_DIR = fileURLToPath(new URL('../.data', import.meta.url));

export type LocalTarget =
  | { readonly endpoint: string; readonly region: string; readonly stream: string }
  | { readonly error: string; readonly usage?: boolean };

/**
 * The Kinesis endpoint, region and stream of the local runner writing `<dataDir>/runner.json`.
 * `stream` names a stream of the pipeline definition (default: its only one).
 */
export async function localRunnerTarget(options: { dataDir?: string | undefined; stream?: string | undefined }): Promise<LocalTarget> {
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  let runner;
  try {
    runner = await readRunnerInfo(dataDir);
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (!runnerAlive(runner) || runner['state'] === 'stopped') {
    return {
      error: `the local runner of ${dataDir} is not running (its runner.json is from pid ${runner.pid ?? '?'}, state ${String(runner['state'] ?? '?')}): start it with \`npm start\``,
    };
  }
  const names = Object.keys(runner.streams);
  const name = options.stream ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined) return { error: `the local runner has streams ${names.join(', ')}: name one with --stream`, usage: true };
  const arn = runner.streams[name]?.arn;
  if (arn === undefined) return { error: `the local runner has no stream "${name}"; its streams: ${names.join(', ') || '(none)'}`, usage: true };
  // arn:aws:kinesis:<region>:<account>:stream/<name>: the local engine is addressed by name.
  const streamName = /:stream\/(.+)$/.exec(arn)?.[1];
  if (streamName === undefined) return { error: `runner.json names stream "${name}" with "${arn}", which is not a Kinesis stream ARN` };
  return { endpoint: runner.kinesisEndpoint, region: runner.region, stream: streamName };
}

/**
 * Resolve credentials the way the SDK will (an endpoint gets the emulators' fixed ones unless the
 * environment has real ones): undefined when there are some, else what to tell the user.
 */
export async function checkCredentials(options: KinesisClientOptions): Promise<string | undefined> {
  const client = createKinesisClient(options);
  try {
    await client.config.credentials();
    return undefined;
  } catch (error) {
    return (
      `no AWS credentials found (${(error as Error).message.split('\n')[0]}). ` +
      'Set AWS_PROFILE (after `aws sso login` / `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; ' +
      'to write to the local pipeline use --local, or --endpoint URL for another Kinesis endpoint.'
    );
  } finally {
    client.destroy();
  }
}
