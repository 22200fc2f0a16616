/**
 * A local Lambda function: a pool of sandboxes (execution environments) for one handler, each
 * running one invocation at a time. Warm sandboxes are reused; a sandbox that timed out or crashed
 * is discarded and the next invocation starts a fresh one. Reserved concurrency caps the pool.
 */
import { randomUUID } from 'node:crypto';
import { EmfTotals } from './emf';
import type { FunctionLog } from './function-log';
import { Sandbox, type SandboxResult } from './sandbox';
import type { SandboxConfig } from './sandbox-protocol';

export interface LocalFunctionSpec {
  name: string;
  /** Absolute path of the handler module (a bundle .mjs with `childScript`, else a .ts run under tsx). */
  entry: string;
  memoryMb: number;
  timeoutSeconds: number;
  reservedConcurrency?: number;
}

export interface LocalFunctionOptions {
  spec: LocalFunctionSpec;
  functionArn: string;
  /** The sandbox environment (complete: nothing else is inherited). */
  env: Record<string, string>;
  log?: FunctionLog;
  initTimeoutMs?: number;
  /** The bundled sandbox bootstrap (see bundle.ts); default: sandbox-child.ts under tsx. */
  childScript?: string;
}

export interface InvocationRequest {
  /** JSON text of the event. */
  payload: string;
  requestId?: string;
  /** The ARN the caller used (with its qualifier), for `context.invokedFunctionArn`. */
  invokedFunctionArn?: string;
  /** Base64 JSON client context (Invoke X-Amz-Client-Context). */
  clientContext?: string;
}

export type InvocationResult = SandboxResult & {
  requestId: string;
  /** Last 4 KB of this invocation's log lines (Invoke LogType Tail). */
  logTail: string;
  sandboxId: number;
};

export interface FunctionStats {
  invocations: number;
  succeeded: number;
  errors: number;
  timeouts: number;
  crashes: number;
  throttles: number;
  inFlight: number;
  queued: number;
  sandboxes: number;
  sandboxesStarted: number;
  sandboxesReplaced: number;
  /**
   * Warm sandboxes that died while idle (killed from outside, out of memory between invocations):
   * noticed when they exit, replaced, and charged to no invocation.
   */
  idleDeaths: number;
  /** Sums of every EMF metric the function emitted. */
  metrics: Record<string, number>;
}

const LOG_TAIL_BYTES = 4096;

export class ThrottledError extends Error {
  constructor(readonly functionName: string) {
    super(`Rate Exceeded: function ${functionName} is at its reserved concurrency`);
    this.name = 'ThrottledError';
  }
}

export class LocalFunction {
  readonly name: string;
  readonly arn: string;
  readonly emf = new EmfTotals();
  private readonly idle: Sandbox[] = [];
  private readonly all = new Set<Sandbox>();
  private readonly waiting: (() => void)[] = [];
  private readonly tails = new Map<Sandbox, string[]>();
  private active = 0;
  private closed = false;
  private readonly counters = { invocations: 0, succeeded: 0, errors: 0, timeouts: 0, crashes: 0, throttles: 0, sandboxesStarted: 0, sandboxesReplaced: 0, idleDeaths: 0 };
  /** Unsubscribe of the exit watch of each idle sandbox. */
  private readonly idleWatch = new Map<Sandbox, () => void>();
  private logStreamCounter = 0;

  constructor(private readonly options: LocalFunctionOptions) {
    this.name = options.spec.name;
    this.arn = options.functionArn;
  }

  get maxConcurrency(): number {
    return this.options.spec.reservedConcurrency ?? Number.POSITIVE_INFINITY;
  }

  /** True when an invocation would have to wait for a sandbox slot (reserved concurrency reached). */
  atCapacity(): boolean {
    return this.active >= this.maxConcurrency;
  }

  /**
   * Run one invocation. With `throttle: true` an invocation beyond reserved concurrency fails at
   * once with ThrottledError (synchronous Invoke: TooManyRequestsException); otherwise it waits.
   */
  async invoke(request: InvocationRequest, options: { throttle?: boolean } = {}): Promise<InvocationResult> {
    if (this.closed) throw new Error(`function ${this.name} is shut down`);
    if (this.atCapacity()) {
      if (options.throttle) {
        this.counters.throttles += 1;
        throw new ThrottledError(this.name);
      }
      // The slot is handed over by the invocation that ends (`active` stays counted).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      if (this.closed) throw new Error(`function ${this.name} is shut down`);
      return await this.runOnce(request);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  private async runOnce(request: InvocationRequest): Promise<InvocationResult> {
    const requestId = request.requestId ?? randomUUID();
    this.counters.invocations += 1;
    const sandbox = this.takeIdle() ?? this.startSandbox();
    const tail: string[] = [];
    this.tails.set(sandbox, tail);
    this.options.log?.line(`START RequestId: ${requestId} Version: $LATEST`);
    let result: SandboxResult;
    const initError = await sandbox.init();
    if (initError) {
      result = { ok: false, errorType: 'Crashed', error: initError, durationMs: 0 };
    } else {
      result = await sandbox.invoke({
        requestId,
        payload: request.payload,
        invokedFunctionArn: request.invokedFunctionArn ?? this.arn,
        ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
      });
    }
    this.tails.delete(sandbox);
    if (!result.ok) {
      this.options.log?.line(`${new Date().toISOString()}\t${requestId}\tERROR\t${JSON.stringify(result.error)}`);
    }
    this.options.log?.line(`END RequestId: ${requestId}`);
    this.options.log?.line(
      `REPORT RequestId: ${requestId}\tDuration: ${result.durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(result.durationMs)} ms\tMemory Size: ${this.options.spec.memoryMb} MB${result.ok ? '' : `\tStatus: ${result.errorType === 'TimedOut' ? 'timeout' : result.errorType === 'Crashed' ? 'error' : 'success'}`}`,
    );
    if (result.ok) this.counters.succeeded += 1;
    else {
      this.counters.errors += 1;
      if (result.errorType === 'TimedOut') this.counters.timeouts += 1;
      if (result.errorType === 'Crashed') this.counters.crashes += 1;
    }
    if (result.ok || result.errorType === 'Unhandled') {
      if (sandbox.alive && !this.closed) this.parkIdle(sandbox);
      else this.discard(sandbox);
    } else {
      // Timeout or crash: this environment is reset; the next invocation gets a fresh one.
      sandbox.kill();
      this.discard(sandbox);
      this.counters.sandboxesReplaced += 1;
    }
    return { ...result, requestId, logTail: lastBytes(tail.join('\n'), LOG_TAIL_BYTES), sandboxId: sandbox.id };
  }

  private startSandbox(): Sandbox {
    const spec = this.options.spec;
    const now = new Date();
    const date = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
    this.logStreamCounter += 1;
    const config: SandboxConfig = {
      entry: spec.entry,
      functionName: spec.name,
      functionVersion: '$LATEST',
      memoryLimitInMB: spec.memoryMb,
      logGroupName: `/aws/lambda/${spec.name}`,
      logStreamName: `${date}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    };
    const sandbox: Sandbox = new Sandbox({
      config,
      env: { ...this.options.env, AWS_LAMBDA_LOG_STREAM_NAME: config.logStreamName },
      timeoutMs: spec.timeoutSeconds * 1000,
      ...(this.options.initTimeoutMs !== undefined ? { initTimeoutMs: this.options.initTimeoutMs } : {}),
      ...(this.options.childScript !== undefined ? { childScript: this.options.childScript } : {}),
      onLine: (line) => {
        this.emf.observe(line);
        this.options.log?.line(line);
        this.tails.get(sandbox)?.push(line);
      },
    });
    this.all.add(sandbox);
    this.counters.sandboxesStarted += 1;
    return sandbox;
  }

  /** A warm sandbox waits for the next invocation; if it dies meanwhile it is dropped at once, charged to no invocation. */
  private parkIdle(sandbox: Sandbox): void {
    this.idle.push(sandbox);
    this.idleWatch.set(
      sandbox,
      sandbox.onExit(() => {
        this.idleWatch.delete(sandbox);
        const index = this.idle.indexOf(sandbox);
        if (index < 0) return;
        this.idle.splice(index, 1);
        this.all.delete(sandbox);
        if (this.closed) return;
        this.counters.idleDeaths += 1;
        this.counters.sandboxesReplaced += 1;
        this.options.log?.line(`${new Date().toISOString()}\tsandbox ${sandbox.pid ?? '?'} exited while idle (${sandbox.exitReason}): replaced at the next invocation`);
      }),
    );
  }

  /** The most recently used live idle sandbox, if any. */
  private takeIdle(): Sandbox | undefined {
    for (;;) {
      const sandbox = this.idle.pop();
      if (sandbox === undefined) return undefined;
      this.idleWatch.get(sandbox)?.();
      this.idleWatch.delete(sandbox);
      if (sandbox.alive) return sandbox;
      this.all.delete(sandbox);
    }
  }

  private discard(sandbox: Sandbox): void {
    this.all.delete(sandbox);
    void sandbox.stop();
  }

  stats(): FunctionStats {
    return {
      ...this.counters,
      inFlight: this.active,
      queued: this.waiting.length,
      sandboxes: this.all.size,
      metrics: this.emf.toJSON(),
    };
  }

  /** Stops every sandbox (in-flight invocations end as crashes: call after draining). */
  async close(): Promise<void> {
    this.closed = true;
    // Invocations still waiting for a slot get one and fail at once (they hold it until their finally).
    for (const waiter of this.waiting.splice(0)) {
      this.active += 1;
      waiter();
    }
    this.idle.length = 0;
    for (const unwatch of this.idleWatch.values()) unwatch();
    this.idleWatch.clear();
    await Promise.all([...this.all].map((s) => s.stop()));
    this.all.clear();
  }
}

function lastBytes(text: string, max: number): string {
  const buffer = Buffer.from(text, 'utf8');
  return buffer.length <= max ? text : buffer.subarray(buffer.length - max).toString('utf8');
}
