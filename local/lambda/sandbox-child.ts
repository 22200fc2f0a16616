/**
 * Entry point of one function sandbox (a child process started with the tsx loader): the local
 * equivalent of a Lambda execution environment. Init loads the handler module once; then it runs
 * one invocation at a time, as Lambda does in one environment. A crash ends the process; the runner
 * then starts a fresh sandbox (Lambda resets the execution environment after a crash or timeout).
 */
import { pathToFileURL } from 'node:url';
import { createLambdaContext } from './lambda-context';
import type { ErrorPayload, InvokeMessage, SandboxConfig, SandboxMessage } from './sandbox-protocol';

type Handler = (event: unknown, context: unknown, callback?: (error: unknown, result?: unknown) => void) => unknown;

const config = JSON.parse(process.argv[2] ?? '{}') as SandboxConfig;

function send(message: SandboxMessage): void {
  process.send?.(message);
}

/** Lambda's Node.js runtime error shape: errorType (the error's name), errorMessage, trace (stack lines). */
function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: typeof error === 'string' ? error : JSON.stringify(error) ?? String(error) };
}

async function loadHandler(): Promise<Handler | ErrorPayload> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(config.entry).href)) as Record<string, unknown>;
  } catch (error) {
    const cause = toErrorPayload(error);
    return { errorType: 'Runtime.ImportModuleError', errorMessage: `${cause.errorType}: ${cause.errorMessage}`, trace: cause.trace ?? [] };
  }
  const handler = module['handler'];
  if (typeof handler !== 'function') {
    return { errorType: 'Runtime.HandlerNotFound', errorMessage: `${config.entry} does not export a function named "handler"` };
  }
  return handler as Handler;
}

function runHandler(handler: Handler, message: InvokeMessage): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const done = (error: unknown, result?: unknown) => {
      if (settled) return;
      settled = true;
      if (error !== null && error !== undefined) reject(error);
      else resolve(result);
    };
    const event: unknown = message.payload === '' ? {} : JSON.parse(message.payload);
    const context = createLambdaContext(config, message, { done });
    // Callback-style handlers take three parameters; the rest return a promise (or a value).
    const returned = handler.length >= 3 ? handler(event, context, done) : handler(event, context);
    if (handler.length < 3) Promise.resolve(returned).then((result) => done(null, result), (error: unknown) => done(error ?? new Error('handler rejected')));
  });
}

async function main(): Promise<void> {
  const handler = await loadHandler();
  if (typeof handler !== 'function') {
    send({ t: 'init-error', error: handler });
    return;
  }
  process.on('message', (raw: InvokeMessage) => {
    if (raw.t !== 'invoke') return;
    runHandler(handler, raw).then(
      (result) => {
        let payload: string;
        try {
          // Lambda serialises the handler's result as JSON; undefined becomes null.
          payload = JSON.stringify(result) ?? 'null';
        } catch (error) {
          send({ t: 'result', requestId: raw.requestId, ok: false, error: { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${(error as Error).message}` } });
          return;
        }
        send({ t: 'result', requestId: raw.requestId, ok: true, payload });
      },
      (error: unknown) => send({ t: 'result', requestId: raw.requestId, ok: false, error: toErrorPayload(error) }),
    );
  });
  send({ t: 'ready' });
}

// The parent going away ends the sandbox too (no orphans).
process.on('disconnect', () => process.exit(0));
// A terminal's Ctrl-C reaches the whole process group: the runner drains and then stops the sandboxes
// itself, so an invocation in flight must not die of it (Lambda stops environments with SIGTERM/SIGKILL).
process.on('SIGINT', () => undefined);
void main();
