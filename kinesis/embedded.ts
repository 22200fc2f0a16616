/**
 * Embedded Kinesis emulators for tests and the local runner, always on a free port.
 *
 * - kinesalite: in-process, fast, in-memory. Supports the data plane plus Split/MergeShards.
 * - kinesis-local (kinesis-mock, LocalStack's engine): a child process; slower to start, never throttles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import kinesalite from 'kinesalite';

export type EngineName = 'kinesalite' | 'kinesis-local';

export interface EmbeddedKinesis {
  readonly engine: EngineName;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface KinesaliteOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Milliseconds until a created stream is ACTIVE (default 10: fast tests). */
  createStreamMs?: number;
  deleteStreamMs?: number;
  updateStreamMs?: number;
  shardLimit?: number;
  /** Folder for kinesalite's leveldb storage, so streams and records survive a restart (default: in memory). */
  path?: string;
}

export async function startKinesalite(options: KinesaliteOptions = {}): Promise<EmbeddedKinesis> {
  const server: Server = kinesalite({
    createStreamMs: options.createStreamMs ?? 10,
    deleteStreamMs: options.deleteStreamMs ?? 10,
    updateStreamMs: options.updateStreamMs ?? 10,
    shardLimit: options.shardLimit ?? 100,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    engine: 'kinesalite',
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      return stopped;
    },
  };
}

export interface KinesisLocalOptions {
  /** Plain-HTTP port; 0 (default) picks a free one. */
  port?: number;
  /** `INITIALIZE_STREAMS` of kinesis-mock, e.g. `orders:2,other:1`. */
  initializeStreams?: string;
  /** Stream operation durations (kinesis-mock `*_DURATION`, default 50ms for speed). */
  durationMs?: number;
  /** kinesis-mock LOG_LEVEL (default ERROR: quiet). */
  logLevel?: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
  /** How long to wait for the service to answer (default 60 s). */
  startTimeoutMs?: number;
  /**
   * Run in its own process group, so a terminal's Ctrl-C (sent to the whole foreground group) does
   * not kill it before its owner has drained (the local runner); it is still killed when the owner exits.
   */
  detached?: boolean;
  /** Region kinesis-mock namespaces streams under (default env AWS_REGION, else us-east-1). */
  region?: string;
}

/** Where the kinesis-local package lives (its `server.json` certificate sits next to `main.js`). */
function kinesisLocalDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('kinesis-local/package.json'));
}

/** A currently free TCP port (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Start kinesis-mock as a child process. It cannot report a port it chose itself, so a free port
 * is reserved (listen on 0) and handed over; a lost race (port taken meanwhile) is retried.
 */
export async function startKinesisLocal(options: KinesisLocalOptions = {}): Promise<EmbeddedKinesis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startKinesisLocalOnce(options);
    } catch (error) {
      lastError = error;
      if (options.port !== undefined) break;
    }
  }
  throw lastError;
}

async function startKinesisLocalOnce(options: KinesisLocalOptions): Promise<EmbeddedKinesis> {
  const dir = kinesisLocalDir();
  const port = options.port || (await freePort());
  const tlsPort = await freePort();
  const duration = `${options.durationMs ?? 50}ms`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_CERT_PATH: join(dir, 'server.json'),
    KINESIS_MOCK_PLAIN_PORT: String(port),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    LOG_LEVEL: options.logLevel ?? 'ERROR',
    ROOT_LOG_LEVEL: 'ERROR',
    SHOULD_PERSIST_DATA: 'false',
    AWS_REGION: options.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
    CREATE_STREAM_DURATION: duration,
    DELETE_STREAM_DURATION: duration,
    REGISTER_STREAM_CONSUMER_DURATION: duration,
    DEREGISTER_STREAM_CONSUMER_DURATION: duration,
    MERGE_SHARDS_DURATION: duration,
    SPLIT_SHARD_DURATION: duration,
    UPDATE_SHARD_COUNT_DURATION: duration,
    UPDATE_STREAM_MODE_DURATION: duration,
    START_STREAM_ENCRYPTION_DURATION: duration,
    STOP_STREAM_ENCRYPTION_DURATION: duration,
  };
  if (options.initializeStreams !== undefined) env['INITIALIZE_STREAMS'] = options.initializeStreams;
  else delete env['INITIALIZE_STREAMS'];

  // kinesis-mock listens on 0.0.0.0 with no authentication: the preload binds it to 127.0.0.1 (loopback-only.cjs).
  const loopbackOnly = fileURLToPath(new URL('./loopback-only.cjs', import.meta.url));
  const child = spawn(process.execPath, ['--require', loopbackOnly, join(dir, 'main.js')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  if (options.detached) {
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
  }
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(child, endpoint, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await killChild(child);
    throw new Error(`kinesis-local did not start on port ${port}: ${(error as Error).message}\n${output}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    engine: 'kinesis-local',
    endpoint,
    stop() {
      stopped ??= killChild(child);
      return stopped;
    },
  };
}

/** Poll with a raw ListStreams call until the service answers (any HTTP response means it is up). */
async function waitUntilServing(child: ChildProcess, endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`process exited with code ${child.exitCode}`);
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' },
        body: '{}',
        signal: AbortSignal.timeout(2000),
      });
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`no answer within ${timeoutMs} ms`);
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export interface EngineSpec {
  readonly name: EngineName;
  start(): Promise<EmbeddedKinesis>;
}

/** Both engines, for tests parameterised per engine (`describe.each(ENGINES)`). */
export const ENGINES: readonly EngineSpec[] = [
  { name: 'kinesalite', start: () => startKinesalite() },
  { name: 'kinesis-local', start: () => startKinesisLocal() },
];

export function startEngine(name: EngineName): Promise<EmbeddedKinesis> {
  return name === 'kinesalite' ? startKinesalite() : startKinesisLocal();
}
