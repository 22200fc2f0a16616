/**
 * Import this first in a command's entry file: an error nobody caught (including one thrown while
 * the modules load, e.g. an invalid pipeline/pipeline.ts) is printed as `error:` + `fix:` lines with
 * its exit code instead of Node's stack dump; `--debug` or `DEBUG=1` adds the stack. `--debug` is
 * taken off process.argv here, so every command accepts it without declaring it.
 */
import { debugRequested, explainError, formatError } from './explain-error';

export const debug = debugRequested();
const flag = process.argv.indexOf('--debug', 2);
if (flag !== -1) process.argv.splice(flag, 1);

/** Prints the failure for a person and exits with its code. */
export function failCleanly(error: unknown, command?: string): never {
  process.stderr.write(`${formatError(error, { debug, ...(command !== undefined ? { command } : {}) })}\n`);
  process.exit(explainError(error).exitCode);
}

process.on('uncaughtException', (error) => failCleanly(error));
process.on('unhandledRejection', (reason) => failCleanly(reason));
