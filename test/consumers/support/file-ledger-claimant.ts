/**
 * A separate process that claims one window in a FilePublishLedger, for the cross-process test in
 * file-publish-ledger.test.ts. Arguments: <directory> <windowKey> <clock epoch ms> <lease ms>.
 * Prints "ready" once loaded, claims when a line arrives on stdin (so that every process races at the
 * same moment), prints the outcome as JSON and exits.
 */
import { createInterface } from 'node:readline';
import { FilePublishLedger } from '../../../consumers/order-metrics/file-publish-ledger';

const [directory, windowKey, clockMs, leaseMs] = process.argv.slice(2);
const ledger = new FilePublishLedger(directory!, { clock: () => new Date(Number(clockMs)), leaseMs: Number(leaseMs) });
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
lines.once('line', () => {
  lines.close();
  ledger.claim(windowKey!).then(
    (result) => process.stdout.write(`${JSON.stringify({ outcome: result.outcome })}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
});
