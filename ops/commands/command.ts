/** A subcommand: its options (node:util parseArgs config), its help, and what it does. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { joinNegativeValues } from '../../cli/negative-values';
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
    return parseArgs({ args: joinNegativeValues(argv), options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function fullHelp(command: Pick<Command, 'help'>): string {
  return `${command.help}\n\n${GLOBAL_HELP}`;
}

export type ParsedCommandArgs<O extends OptionsConfig> = ReturnType<typeof parseCommandArgs<O>>;

export interface CommandSpec<O extends OptionsConfig> extends Omit<Command, 'run'> {
  /** The command's own options; the global ones are added. */
  readonly options: O;
  /** Runs with the parsed arguments; not called for --help. */
  run(args: ParsedCommandArgs<O>, env: OpsEnvironment): Promise<number>;
}

/** A command whose arguments are parsed (usage errors for unknown options) and whose --help prints its full help. */
export function defineCommand<O extends OptionsConfig>(spec: CommandSpec<O>): Command {
  const command: Command = {
    name: spec.name,
    summary: spec.summary,
    help: spec.help,
    async run(argv, env) {
      const args = parseCommandArgs(argv, spec.options);
      // --help is a global option; TypeScript cannot see it through the generic options here.
      if ((args.values as { help?: boolean }).help) {
        env.io.out(fullHelp(command));
        return 0;
      }
      return spec.run(args, env);
    },
  };
  return command;
}

/** A positive integer option, or a usage error naming it. */
export function intOption(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${value}"`);
  return n;
}
