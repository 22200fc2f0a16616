#!/usr/bin/env node
// `kinesis-ops` bin: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./cli.ts');
const { processIo } = await import('./io.ts');
process.exitCode = await runCli(process.argv.slice(2), { io: processIo() });
