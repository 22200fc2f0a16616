// One cold start, measured in a fresh process (bench/cold-start.bench.ts spawns one per sample).
// Plain JavaScript, so no TypeScript loader runs before or during what is measured.
// argv: <bundle index.mjs> <event JSON file> <second event JSON file> <result file>. Writes one JSON
// object to the result file (stdout is the function's log stream):
// { initMs, initCpuMs, firstMs, firstCpuMs, warmMs, warmCpuMs, result, warmResult },
// first* = init + the first invocation, warm* = the second invocation alone (a warm container's batch).
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, secondEventFile, resultFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const secondEvent = JSON.parse(readFileSync(secondEventFile, 'utf8'));
const deadline = Date.now() + 60_000;
const context = {
  awsRequestId: 'c0ffee00-0000-4000-8000-000000000001',
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench',
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const cpuMs = (usage) => (usage.user + usage.system) / 1000;

// Lambda's Node.js runtime (aws-lambda-nodejs-runtime-interface-client, src/: InvokeContext.js requires
// assert, RAPIDClient.js http, ResponseStream.js net, UserFunction.js fs/path/module, ...) has loaded
// these built-ins before it imports the handler, so a handler using them does not pay for them at init.
for (const builtin of ['assert', 'http', 'net', 'fs', 'path', 'util', 'module']) await import(`node:${builtin}`);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
// As Lambda's Node.js runtime loads an ES module handler: a dynamic import of the file.
const mod = await import(pathToFileURL(bundle).href);
const initMs = performance.now() - t0;
const initCpuMs = cpuMs(process.cpuUsage(cpu0));
const result = await mod.handler(event, context);
const firstMs = performance.now() - t0;
const firstCpuMs = cpuMs(process.cpuUsage(cpu0));
const cpu1 = process.cpuUsage();
const t1 = performance.now();
const warmResult = await mod.handler(secondEvent, context);
const warmMs = performance.now() - t1;
const warmCpuMs = cpuMs(process.cpuUsage(cpu1));
writeFileSync(resultFile, JSON.stringify({ initMs, initCpuMs, firstMs, firstCpuMs, warmMs, warmCpuMs, result, warmResult }));
