/**
 * Messages between the runner and a function sandbox (a child process), over the Node IPC channel.
 * The sandbox's stdout/stderr carry only what the function itself writes (its logs and EMF lines).
 */

/** Static facts about the function, handed to the sandbox once (argv), as Lambda's runtime knows them. */
export interface SandboxConfig {
  /** Absolute path of the handler module (a .ts file exporting `handler`). */
  entry: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: number;
  logGroupName: string;
  logStreamName: string;
}

export interface InvokeMessage {
  readonly t: 'invoke';
  readonly requestId: string;
  /** The event, already JSON text (it is parsed in the sandbox, as Lambda's runtime does). */
  readonly payload: string;
  /** Epoch ms when the function times out: drives `context.getRemainingTimeInMillis()`. */
  readonly deadline: number;
  readonly invokedFunctionArn: string;
  readonly clientContext?: string;
}

export interface ErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export type SandboxMessage =
  | { readonly t: 'ready' }
  | { readonly t: 'init-error'; readonly error: ErrorPayload }
  | { readonly t: 'result'; readonly requestId: string; readonly ok: true; readonly payload: string }
  | { readonly t: 'result'; readonly requestId: string; readonly ok: false; readonly error: ErrorPayload };
