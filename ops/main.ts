/** `npm run ops` / `kinesis-ops`: the operations CLI as a process (clean errors, exit code). */
import '../cli/fail-cleanly';
import { runCli } from './cli';
import { processIo } from './io';

process.exitCode = await runCli(process.argv.slice(2), { io: processIo() });
