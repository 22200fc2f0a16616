/** Where a command writes (stdout for results, stderr for progress and errors) and how it asks. */
import { createInterface } from 'node:readline/promises';

export interface OpsIo {
  out(line: string): void;
  err(line: string): void;
  /** Whether a human can answer a question (stdin is a TTY). */
  readonly interactive: boolean;
  /** Ask a yes/no question; true only for an explicit yes. */
  confirm(question: string): Promise<boolean>;
}

export function processIo(): OpsIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: Boolean(process.stdin.isTTY),
    async confirm(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^(y|yes)$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** Thrown for bad command-line input: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
