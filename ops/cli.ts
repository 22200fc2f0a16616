/**
 * The operations CLI: `npm run ops -- <subcommand> ...` (or the `kinesis-ops` bin).
 * Exit codes: 0 ok / healthy, 1 something failed or is unhealthy, 2 usage error.
 */
import { pathToFileURL } from 'node:url';
import { explainError } from '../cli/explain-error';
import type { Command } from './commands/command';
import { pauseCommand, resumeCommand } from './commands/pause-resume';
import { redriveCommand } from './commands/redrive';
import { reportCommand } from './commands/report';
import { statusCommand } from './commands/status';
import { tailCommand } from './commands/tail';
import { verifyCommand } from './commands/verify';
import { GLOBAL_HELP, type OpsEnvironment } from './context';
import { processIo, UsageError } from './io';

export const COMMANDS: readonly Command[] = [redriveCommand, tailCommand, statusCommand, pauseCommand, resumeCommand, reportCommand, verifyCommand];

function overview(): string {
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`);
  return `Usage: ops <command> [options]   (npm run ops -- <command> ...)\n\nCommands:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n\nRun "ops <command> --help" for a command's options and examples.`;
}

export async function runCli(argv: readonly string[], env: OpsEnvironment): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    env.io.out(overview());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    env.io.err(`unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  try {
    return await command.run(rest, env);
  } catch (error) {
    if (error instanceof UsageError) {
      env.io.err(`ops ${command.name}: ${error.message}\nRun "ops ${command.name} --help" for usage.`);
      return 2;
    }
    const explained = explainError(error);
    env.io.err(`ops ${command.name} failed: ${explained.message}${explained.fix !== undefined ? `\nfix: ${explained.fix}` : ''}`);
    return explained.exitCode;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2), { io: processIo() }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
