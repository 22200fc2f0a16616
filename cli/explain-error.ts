/**
 * What every command a person runs prints when it fails: one clear message, the fix, an exit code,
 * and no stack trace unless asked for (`--debug` or `DEBUG`). Errors the project raises for people
 * carry their fix (CliError); well-known failures of what the commands depend on (an unreachable
 * endpoint, missing AWS credentials, an unreadable kinesalite folder, an invalid pipeline definition)
 * are explained here once for every command.
 */

/** An error meant for a person: the message, how to fix it, and the exit code (1 failure, 2 usage). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly fix?: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

export interface ExplainedError {
  readonly message: string;
  readonly fix?: string;
  readonly exitCode: number;
}

/** `--debug` on the command line or DEBUG set (to anything but "", 0 or false) asks for stack traces. */
export function debugRequested(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env['DEBUG'];
  return argv.includes('--debug') || (flag !== undefined && flag !== '' && flag !== '0' && flag.toLowerCase() !== 'false');
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The error itself, its causes and (AggregateError, e.g. from a dual-stack connect) its members. */
function* errorChain(error: unknown, depth = 0): Generator<unknown> {
  if (error === undefined || error === null || depth > 5) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* errorChain(inner, depth + 1);
  if (error instanceof Error && error.cause !== undefined) yield* errorChain(error.cause, depth + 1);
}

function connectionRefused(error: unknown): { address?: string } | undefined {
  for (const e of errorChain(error)) {
    if (errorCode(e) === 'ECONNREFUSED') {
      const { address, port } = e as { address?: string; port?: number };
      return { ...(address !== undefined ? { address: port !== undefined ? `${address}:${port}` : address } : {}) };
    }
  }
  return undefined;
}

export function explainError(error: unknown): ExplainedError {
  if (error instanceof CliError) return { message: error.message, ...(error.fix !== undefined ? { fix: error.fix } : {}), exitCode: error.exitCode };
  const e = error instanceof Error ? error : new Error(String(error));
  if (e.name === 'PipelineDefinitionError') {
    return { message: e.message, fix: 'correct pipeline/pipeline.ts (every setting and its AWS limits: docs/semantics.md, docs/deploy.md)', exitCode: 1 };
  }
  if (e.name === 'OpenError' || /\bIO error\b.*\bkinesalite\b/.test(e.message)) {
    // levelup's OpenError: kinesalite's --persist-stream storage (<data-dir>/kinesalite) is not a LevelDB database.
    const folder = /(\S*\/kinesalite)\b/.exec(e.message)?.[1] ?? '<data-dir>/kinesalite';
    return {
      message: `the persisted Kinesis data in ${folder} cannot be opened (${e.message.replace(/^OpenError:\s*/, '')})`,
      fix: `delete the folder (rm -rf ${folder}) to start with empty streams (its records are lost), or run without --persist-stream`,
      exitCode: 1,
    };
  }
  const refused = connectionRefused(error);
  if (refused) {
    return {
      message: `connection refused${refused.address !== undefined ? ` by ${refused.address}` : ''}: nothing is listening there`,
      fix: 'start the service this command talks to, or point the command at the right endpoint (--endpoint)',
      exitCode: 1,
    };
  }
  if (e.name === 'CredentialsProviderError') {
    return {
      message: `no AWS credentials: ${e.message}`,
      fix: 'set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; for the local runner use --local',
      exitCode: 1,
    };
  }
  return { message: e.name !== 'Error' && !e.message.startsWith(e.name) ? `${e.name}: ${e.message}` : e.message, exitCode: 1 };
}

/** The lines printed for a failure: `error: ...`, `fix: ...`, and the stack only when debugging. */
export function formatError(error: unknown, options: { command?: string; debug?: boolean } = {}): string {
  const explained = explainError(error);
  const lines = [`error: ${options.command !== undefined ? `${options.command}: ` : ''}${explained.message}`];
  if (explained.fix !== undefined) lines.push(`fix: ${explained.fix}`);
  if (options.debug) lines.push('', error instanceof Error && error.stack !== undefined ? error.stack : String(error));
  else if (explained.fix === undefined) lines.push('(run again with --debug, or DEBUG=1, for the stack trace)');
  return lines.join('\n');
}
