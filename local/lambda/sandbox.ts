/**
 * One execution environment of a local function: a child process running sandbox-child.ts under
 * the tsx loader, with the function's environment and memory size. It runs one invocation at a
 * time, enforces the function timeout, and is discarded after a timeout or crash (Lambda developer
 * guide, "Lambda execution environment lifecycle": after a timeout or runtime crash the execution
 * environment is reset).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { onLines } from './output-lines';
import type { ErrorPayload, InvokeMessage, SandboxConfig, SandboxMessage } from './sandbox-protocol';

/** Lambda's Init phase limit (execution environment lifecycle: "The Init phase is limited to 10 seconds"). */
export const INIT_TIMEOUT_MS = 10_000;

export type SandboxResult =
  | { ok: true; payload: string; durationMs: number }
  | { ok: false; errorType: 'Unhandled' | 'TimedOut' | 'Crashed'; error: ErrorPayload; durationMs: number };

export interface SandboxOptions {
  config: SandboxConfig;
  /**
   * The bootstrap to run: the bundled sandbox-child.mjs (plain node), or by default
   * sandbox-child.ts under the tsx loader (then `config.entry` may be a .ts file).
   */
  childScript?: string;
  /** Complete environment of the process (nothing is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Every line the function writes to stdout or stderr. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  initTimeoutMs?: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const childEntry = join(here, 'sandbox-child.ts');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let sandboxCounter = 0;

export class Sandbox {
  readonly id = ++sandboxCounter;
  private readonly child: ChildProcess;
  private readonly ready: Promise<ErrorPayload | undefined>;
  private exited = false;
  private exitDescription = '';
  private readonly exitListeners = new Set<() => void>();
  private messageListener: ((message: SandboxMessage) => void) | undefined;
  private busy = false;

  constructor(private readonly options: SandboxOptions) {
    const loader = options.childScript === undefined ? ['--import', tsxLoader] : [];
    this.child = fork(options.childScript ?? childEntry, [JSON.stringify(options.config)], {
      env: options.env,
      // The function's memory size bounds the V8 heap, so a runaway function dies like an OOM in Lambda.
      execArgv: [...loader, '--enable-source-maps', `--max-old-space-size=${options.config.memoryLimitInMB}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // Its own process group: a terminal's Ctrl-C reaches the runner's group, and the runner drains,
      // then stops its sandboxes itself. A sandbox still starting (before its SIGINT handler exists)
      // would otherwise die of the Ctrl-C and fail the invocation waiting for it. A runner that dies
      // closes the IPC channel, and the sandbox exits on 'disconnect' (sandbox-child.ts): no orphans.
      detached: true,
    });
    if (this.child.stdout) onLines(this.child.stdout, (line) => options.onLine(line, 'stdout'));
    if (this.child.stderr) onLines(this.child.stderr, (line) => options.onLine(line, 'stderr'));
    this.child.on('message', (message: SandboxMessage) => this.messageListener?.(message));
    const markExited = (description: string) => {
      if (this.exited) return;
      this.exited = true;
      this.exitDescription = description;
      for (const listener of this.exitListeners) listener();
    };
    // A process that could not be spawned emits 'error' and never 'exit'.
    this.child.on('error', (error) => {
      if (this.child.pid === undefined) markExited(`could not start: ${error.message}`);
    });
    this.child.once('exit', (code, signal) => {
      markExited(signal !== null ? `signal: ${signal.toLowerCase().replace(/^sig/, '')}` : `exit status ${code ?? 0}`);
    });
    this.ready = this.awaitReady(options.initTimeoutMs ?? INIT_TIMEOUT_MS);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** How the process ended (e.g. `signal: kill`), once it has. */
  get exitReason(): string {
    return this.exitDescription;
  }

  /** Calls `listener` once when the process exits (at once if it already has); returns the unsubscribe. */
  onExit(listener: () => void): () => void {
    if (this.exited) {
      listener();
      return () => undefined;
    }
    const once = () => {
      this.exitListeners.delete(once);
      listener();
    };
    this.exitListeners.add(once);
    return () => this.exitListeners.delete(once);
  }

  get isBusy(): boolean {
    return this.busy;
  }

  /** Resolves undefined when the handler module loaded, else the init error (the sandbox is then dead). */
  init(): Promise<ErrorPayload | undefined> {
    return this.ready;
  }

  private awaitReady(timeoutMs: number): Promise<ErrorPayload | undefined> {
    return new Promise((resolve) => {
      const finish = (error: ErrorPayload | undefined) => {
        clearTimeout(timer);
        this.exitListeners.delete(onExit);
        this.messageListener = undefined;
        if (error) this.kill();
        resolve(error);
      };
      const timer = setTimeout(
        () => finish({ errorType: 'Runtime.InitTimeout', errorMessage: `INIT_REPORT Init Duration: ${timeoutMs} ms Phase: init Status: timeout` }),
        timeoutMs,
      );
      const onExit = () => finish({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited during init with error: ${this.exitDescription}` });
      this.exitListeners.add(onExit);
      this.messageListener = (message) => {
        if (message.t === 'ready') finish(undefined);
        else if (message.t === 'init-error') finish(message.error);
      };
    });
  }

  /** Run one invocation. Never rejects: every failure is a SandboxResult. */
  async invoke(message: Omit<InvokeMessage, 't' | 'deadline'>): Promise<SandboxResult> {
    if (this.busy) throw new Error('sandbox is busy: one invocation at a time');
    this.busy = true;
    try {
      return await this.run(message);
    } finally {
      this.busy = false;
    }
  }

  private run(message: Omit<InvokeMessage, 't' | 'deadline'>): Promise<SandboxResult> {
    const started = performance.now();
    const duration = () => Math.round((performance.now() - started) * 1000) / 1000;
    const timeoutMs = this.options.timeoutMs;
    return new Promise<SandboxResult>((resolve) => {
      const finish = (result: SandboxResult) => {
        clearTimeout(timer);
        this.exitListeners.delete(onExit);
        this.messageListener = undefined;
        resolve(result);
      };
      const onExit = () =>
        finish({
          ok: false,
          errorType: 'Crashed',
          error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${message.requestId} Error: Runtime exited with error: ${this.exitDescription}` },
          durationMs: duration(),
        });
      const timer = setTimeout(() => {
        // The timed-out environment is destroyed, whatever the handler is doing (even a busy loop).
        this.kill();
        finish({
          ok: false,
          errorType: 'TimedOut',
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `${new Date().toISOString()} ${message.requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
          },
          durationMs: duration(),
        });
      }, timeoutMs);
      if (this.exited) {
        onExit();
        return;
      }
      this.exitListeners.add(onExit);
      this.messageListener = (reply) => {
        if (reply.t !== 'result' || reply.requestId !== message.requestId) return;
        if (reply.ok) finish({ ok: true, payload: reply.payload, durationMs: duration() });
        else finish({ ok: false, errorType: 'Unhandled', error: reply.error, durationMs: duration() });
      };
      const invoke: InvokeMessage = { t: 'invoke', ...message, deadline: Date.now() + timeoutMs };
      this.child.send(invoke, (error) => {
        if (error) this.kill();
      });
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Ends the process and waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.exitListeners.add(resolve));
    this.child.kill('SIGTERM');
    const force = setTimeout(() => this.kill(), 2000);
    await gone;
    clearTimeout(force);
  }
}
