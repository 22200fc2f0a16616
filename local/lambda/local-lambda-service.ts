/**
 * Every function of the pipeline definition (consumers and plain functions) as a local Lambda:
 * sandboxes per function, an asynchronous-invocation queue per function, and the Invoke endpoint
 * that serves them all (the ops CLI and the functions themselves call it with client-lambda).
 */
import { resolve } from 'node:path';
import type { PipelineDefinition } from '../../pipeline/definition-schema';
import { functionEnvironment } from '../../pipeline/function-environment';
import type { DataDir } from '../data-dir';
import { NdjsonFile } from '../ndjson-file';
import { AsyncInvokeQueue } from './async-invoke-queue';
import { bundleFunction, bundleSandboxChild } from './bundle';
import { FunctionLog } from './function-log';
import { functionArn } from './function-names';
import { startInvokeEndpoint, type InvokeEndpoint } from './invoke-endpoint';
import { LocalFunction, type FunctionStats } from './local-function';

export interface LocalLambdaServiceOptions {
  definition: PipelineDefinition;
  /** Folder the definition's `entry` paths are relative to. */
  projectRoot: string;
  dataDir: DataDir;
  region: string;
  /** LOG_LEVEL forced on every function; default: the definition's, else `warn`. */
  functionLogLevel?: string;
  /** Asynchronous invocation retry delays (default Lambda's 1 min, 2 min). */
  asyncRetryDelaysMs?: readonly number[];
  /** At stop, wait out those delays instead of retrying at once (async-invoke-queue.ts; default false). */
  waitForAsyncRetriesAtStop?: boolean;
  initTimeoutMs?: number;
  /** Port of the Invoke endpoint (default: a free one). */
  port?: number;
  /**
   * Run functions from esbuild bundles (default true: fast cold starts, as deployed). With false,
   * sandboxes load the .ts handler through the tsx loader (slower; no build step).
   */
  bundle?: boolean;
  /** The consumers' idempotency tables (local/idempotency-tables.ts), when the definition declares any. */
  idempotency?: { readonly endpoint: string; tableName(consumer: string): string | undefined };
}

export interface LambdaFunctionStats extends FunctionStats {
  functionArn: string;
  asyncAccepted: number;
  asyncPending: number;
  asyncFailed: number;
}

export class LocalLambdaService {
  private readonly logs: FunctionLog[] = [];

  private constructor(
    readonly endpoint: InvokeEndpoint,
    private readonly options: LocalLambdaServiceOptions,
    readonly functions: Map<string, LocalFunction>,
    readonly asyncQueues: Map<string, AsyncInvokeQueue>,
    private readonly invocationFiles: Map<string, NdjsonFile>,
  ) {}

  static async start(options: LocalLambdaServiceOptions): Promise<LocalLambdaService> {
    const functions = new Map<string, LocalFunction>();
    const asyncQueues = new Map<string, AsyncInvokeQueue>();
    const invocationFiles = new Map<string, NdjsonFile>();
    // The endpoint URL goes into every sandbox's environment, so it listens first.
    const endpoint = await startInvokeEndpoint({
      functions,
      asyncQueues,
      region: options.region,
      invocationLog: (name) => invocationFiles.get(name),
      ...(options.port !== undefined ? { port: options.port } : {}),
    });
    const service = new LocalLambdaService(endpoint, options, functions, asyncQueues, invocationFiles);
    try {
      await service.createFunctions();
    } catch (error) {
      await endpoint.close();
      throw error;
    }
    return service;
  }

  private async createFunctions(): Promise<void> {
    const { definition, dataDir, region } = this.options;
    const all = { ...definition.consumers, ...definition.functions };
    const bundled = this.options.bundle ?? true;
    const buildDir = dataDir.buildDir;
    // Like a deployment, every function is built first: a handler that does not build stops the start.
    const childScript = bundled ? await bundleSandboxChild(buildDir) : undefined;
    const bundles = new Map<string, string>();
    if (bundled) {
      await Promise.all(
        Object.entries(all).map(async ([name, spec]) => bundles.set(name, await bundleFunction(name, resolve(this.options.projectRoot, spec.entry), buildDir))),
      );
    }
    for (const [name, spec] of Object.entries(all)) {
      const arn = functionArn(region, name);
      const entry = bundles.get(name) ?? resolve(this.options.projectRoot, spec.entry);
      const idempotency = this.options.idempotency;
      const configured = functionEnvironment(definition, name, {
        functionName: (target) => target,
        logLevel: 'warn',
        ...(idempotency !== undefined ? { idempotencyTable: (owner: string) => idempotency.tableName(owner) } : {}),
        extra: {
          LOCAL_DATA_DIR: dataDir.root,
          AWS_ENDPOINT_URL_LAMBDA: this.endpoint.url,
          ...(idempotency !== undefined ? { AWS_ENDPOINT_URL_DYNAMODB: idempotency.endpoint } : {}),
          ...(this.options.functionLogLevel !== undefined ? { LOG_LEVEL: this.options.functionLogLevel } : {}),
        },
      });
      const log = new FunctionLog(dataDir.logFile(name));
      this.logs.push(log);
      const fn = new LocalFunction({
        spec: {
          name,
          entry,
          memoryMb: spec.memoryMb,
          timeoutSeconds: spec.timeoutSeconds,
          ...(spec.reservedConcurrency !== undefined ? { reservedConcurrency: spec.reservedConcurrency } : {}),
        },
        functionArn: arn,
        env: sandboxEnvironment({ configured, functionName: name, memoryMb: spec.memoryMb, region, projectRoot: this.options.projectRoot, entry: spec.entry }),
        log,
        ...(childScript !== undefined ? { childScript } : {}),
        ...(this.options.initTimeoutMs !== undefined ? { initTimeoutMs: this.options.initTimeoutMs } : {}),
      });
      this.functions.set(name, fn);
      this.invocationFiles.set(name, new NdjsonFile(dataDir.invokeRequestsFile(name)));
      this.asyncQueues.set(
        name,
        new AsyncInvokeQueue({
          fn,
          onFailure: new NdjsonFile(dataDir.onFailureFile(name)),
          ...(this.options.asyncRetryDelaysMs !== undefined ? { retryDelaysMs: this.options.asyncRetryDelaysMs } : {}),
          ...(this.options.waitForAsyncRetriesAtStop ? { waitForRetriesAtStop: true } : {}),
        }),
      );
    }
  }

  get(name: string): LocalFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no local function "${name}"`);
    return fn;
  }

  stats(): Record<string, LambdaFunctionStats> {
    const out: Record<string, LambdaFunctionStats> = {};
    for (const [name, fn] of this.functions) {
      const queue = this.asyncQueues.get(name)!;
      out[name] = {
        functionArn: fn.arn,
        ...fn.stats(),
        asyncAccepted: queue.counters.accepted,
        asyncPending: queue.pending,
        asyncFailed: queue.counters.failed,
      };
    }
    return out;
  }

  /** Finish every accepted asynchronous invocation (including those waiting for a retry). */
  async drainAsync(): Promise<void> {
    // An async invocation may itself invoke another function asynchronously: repeat until quiet.
    for (let round = 0; round < 10; round++) {
      await Promise.all([...this.asyncQueues.values()].map((q) => q.drain()));
      if ([...this.asyncQueues.values()].every((q) => q.pending === 0)) return;
    }
  }

  async close(): Promise<void> {
    await this.endpoint.close();
    await Promise.all([...this.functions.values()].map((fn) => fn.close()));
    await Promise.all([...this.invocationFiles.values()].map((f) => f.flush()));
    await Promise.all(this.logs.map((log) => log.close()));
  }
}

/** Credentials only local endpoints accept (Lambda gives a function its role's session credentials). */
export const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SESSION_TOKEN: 'local',
} as const;

/**
 * The complete sandbox environment: the function's configured variables (shared with the cdktf
 * stack via pipeline/function-environment.ts), then Lambda's reserved variables (Lambda developer
 * guide, "Defined runtime environment variables"), which configuration cannot override. Nothing
 * else is inherited from the runner, so a developer's real AWS credentials never reach a function.
 */
export function sandboxEnvironment(input: {
  configured: Record<string, string>;
  functionName: string;
  memoryMb: number;
  region: string;
  projectRoot: string;
  entry: string;
}): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const key of ['PATH', 'TMPDIR', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) inherited[key] = value;
  }
  return {
    ...inherited,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...input.configured,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${input.functionName}`,
    LAMBDA_TASK_ROOT: input.projectRoot,
    _HANDLER: `${input.entry.replace(/\.ts$/, '')}.handler`,
    ...FAKE_CREDENTIALS,
    // Deployed functions run on Node.js 22; the SDK's "upgrade from Node 20" notice is local noise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
