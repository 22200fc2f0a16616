/**
 * The one way this project builds Kinesis clients, plus the few stream helpers everybody needs.
 *
 * The SDK's Kinesis client defaults to an HTTP/2 handler (for SubscribeToShard). The emulators
 * (kinesalite, kinesis-mock) speak plain HTTP/1.1, so an `http://` endpoint gets a NodeHttpHandler.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type KinesisClientConfig,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Static credentials or a credential provider, as the SDK accepts them. */
export type AwsCredentials = NonNullable<KinesisClientConfig['credentials']>;

export interface KinesisClientOptions {
  /** Endpoint URL, e.g. `http://127.0.0.1:4567` for an emulator; AWS's regional endpoint when omitted. */
  endpoint?: string;
  /** Region; defaults to env AWS_REGION, else `us-east-1`. */
  region?: string;
  /** Static credentials; the SDK's default provider chain when omitted (fake local ones for an endpoint). */
  credentials?: AwsCredentials;
  /** Force the HTTP/1.1 handler (default: on for `http://` endpoints, off otherwise). */
  http1?: boolean;
  /** Max sockets of the HTTP/1.1 agent (default 50). */
  maxSockets?: number;
  /** SDK-level retry attempts (default: SDK default of 3). Producers that retry themselves pass 1. */
  maxAttempts?: number;
  /** Per-request timeout, ms (HTTP/1.1 handler: default 30 s; the SDK's HTTP/2 handler: its default unless set). */
  requestTimeoutMs?: number;
}

/** Credentials the emulators accept; never used against AWS (only when an endpoint is given). */
export const LOCAL_CREDENTIALS: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: 'local', secretAccessKey: 'local' };

export function defaultRegion(): string {
  return process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

export function createKinesisClient(options: KinesisClientOptions = {}): KinesisClient {
  const { endpoint } = options;
  const http1 = options.http1 ?? (endpoint !== undefined && endpoint.startsWith('http://'));
  const credentials =
    options.credentials ?? (endpoint !== undefined && !hasEnvCredentials() ? LOCAL_CREDENTIALS : undefined);
  const maxSockets = options.maxSockets ?? 50;
  return new KinesisClient({
    region: options.region ?? defaultRegion(),
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(credentials !== undefined ? { credentials } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(http1
      ? {
          requestHandler: new NodeHttpHandler({
            httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
            httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
            requestTimeout: options.requestTimeoutMs ?? 30_000,
            // Without this, @smithy/node-http-handler only logs a warning when the timeout passes.
            throwOnRequestTimeout: true,
          }),
        }
      : options.requestTimeoutMs !== undefined
        ? { requestHandler: { requestTimeout: options.requestTimeoutMs } }
        : {}),
  });
}

function hasEnvCredentials(): boolean {
  return Boolean(process.env['AWS_ACCESS_KEY_ID'] && process.env['AWS_SECRET_ACCESS_KEY']);
}

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Poll interval (default 50 ms; emulators activate streams in a few hundred ms). */
  pollMs?: number;
}

/** Wait until DescribeStreamSummary reports StreamStatus ACTIVE. */
export async function waitForStreamActive(
  client: KinesisClient,
  streamName: string,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const pollMs = options.pollMs ?? 50;
  for (;;) {
    try {
      const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    } catch (error) {
      // Right after CreateStream some engines briefly answer ResourceNotFound.
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`stream ${streamName} not ACTIVE after ${options.timeoutMs ?? 60_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export interface EnsureStreamOptions extends WaitOptions {
  name: string;
  /** Shard count for a PROVISIONED stream created here (default 1). Ignored when the stream exists. */
  shardCount?: number;
}

/** Create the stream when missing (PROVISIONED, `shardCount` shards) and wait until it is ACTIVE. */
export async function ensureStream(client: KinesisClient, options: EnsureStreamOptions): Promise<void> {
  try {
    await client.send(new CreateStreamCommand({ StreamName: options.name, ShardCount: options.shardCount ?? 1 }));
  } catch (error) {
    // CreateStream on an existing stream: ResourceInUseException (Kinesis API reference, CreateStream).
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitForStreamActive(client, options.name, options);
}

/** Every shard of the stream (a name, or an ARN), open and closed, following ListShards NextToken pagination. */
export async function listAllShards(client: KinesisClient, streamName: string): Promise<Shard[]> {
  const stream = streamName.startsWith('arn:') ? { StreamARN: streamName } : { StreamName: streamName };
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // ListShards: StreamName must not be given together with NextToken (Kinesis API reference, ListShards).
    const out = await client.send(
      new ListShardsCommand(nextToken !== undefined ? { NextToken: nextToken } : stream),
    );
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken !== undefined);
  return shards;
}

/** Open shards only (no EndingSequenceNumber): the ones that accept writes. */
export function openShards(shards: readonly Shard[]): Shard[] {
  return shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
}
