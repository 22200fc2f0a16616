/** A subcommand: its options (node:util parseArgs config), its help, and what it does. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GLOBAL_HELP, GLOBAL_OPTIONS, type OpsEnvironment } from '../context';
import { UsageError } from '../io';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage and option lines (the global options are appended). */
  readonly help: string;
  run(argv: readonly string[], env: OpsEnvironment): Promise<number>;
}

/** Parse `argv` with the command's options plus the global ones; --help prints the help. */
export function parseCommandArgs<O extends OptionsConfig>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function fullHelp(command: Pick<Command, 'help'>): string {
  return `${command.help}\n\n${GLOBAL_HELP}`;
}

/** A positive integer option, or a usage error naming it. */
export function intOption(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${value}"`);
  return n;
}
