/**
 * The local Lambda: sandboxes (Context, timeout, crash replacement, environment) and the
 * Invoke-compatible endpoint, driven with the real @aws-sdk/client-lambda.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvokeCommand,
  LambdaClient,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
  InvalidRequestContentException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePipeline } from '../../pipeline/define-pipeline';
import { DataDir } from '../../local/data-dir';
import { LocalLambdaService } from '../../local/lambda/local-lambda-service';

const projectRoot = join(import.meta.dirname, '..', '..');
const entry = 'test/local-runner/fixtures/scripted-handler.ts';
const region = 'eu-west-1';

const definition = definePipeline({
  name: 'lambdatest',
  streams: { s: { capacity: { mode: 'PROVISIONED', shardCount: 1 } } },
  consumers: {},
  functions: {
    scripted: { entry, memoryMb: 160, timeoutSeconds: 1, invokes: ['sink'], environment: { TARGET_FUNCTION_NAME: 'sink', GREETING: 'hi' } },
    sink: { entry, memoryMb: 128, timeoutSeconds: 5 },
    limited: { entry, memoryMb: 128, timeoutSeconds: 5, reservedConcurrency: 1 },
    broken: { entry: 'test/local-runner/fixtures/broken-import.ts', memoryMb: 128, timeoutSeconds: 5 },
    callback: { entry: 'test/local-runner/fixtures/callback-handler.ts', memoryMb: 128, timeoutSeconds: 5 },
  },
});

let dataRoot: string;
let service: LocalLambdaService;
let lambda: LambdaClient;

const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const invoke = (FunctionName: string, payload: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}) =>
  lambda.send(new InvokeCommand({ FunctionName, Payload: encode(payload), ...extra }));

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function readNdjson(path: string): Promise<Record<string, unknown>[]> {
  try {
    const text = await readFile(path, 'utf8');
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  dataRoot = await mkdtemp(join(tmpdir(), 'local-lambda-'));
  process.env['LOCAL_RUNNER_TEST_SECRET'] = 'must-not-leak';
  service = await LocalLambdaService.start({
    definition,
    projectRoot,
    dataDir: new DataDir(dataRoot),
    region,
    asyncRetryDelaysMs: [20, 20],
  });
  lambda = new LambdaClient({ region, endpoint: service.endpoint.url, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
});

afterAll(async () => {
  lambda?.destroy();
  await service?.close();
  delete process.env['LOCAL_RUNNER_TEST_SECRET'];
  await rm(dataRoot, { recursive: true, force: true });
});

describe('RequestResponse invocations', () => {
  it('returns the handler result with 200 and hands the handler a Lambda-like context', async () => {
    const out = await invoke('scripted', { action: 'echo', n: 1 }, { LogType: 'Tail' });
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(out.FunctionError).toBeUndefined();
    const body = decode(out.Payload);
    expect(body['event']).toEqual({ action: 'echo', n: 1 });
    expect(body['functionName']).toBe('scripted');
    expect(body['functionVersion']).toBe('$LATEST');
    expect(body['memoryLimitInMB']).toBe('160');
    expect(body['invokedFunctionArn']).toBe(`arn:aws:lambda:${region}:000000000000:function:scripted`);
    expect(body['logGroupName']).toBe('/aws/lambda/scripted');
    expect(body['awsRequestId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(body['remainingTimeInMillis']).toBeGreaterThan(0);
    expect(body['remainingTimeInMillis']).toBeLessThanOrEqual(1000);
    expect(out.LogResult).toBeDefined();
  });

  it('returns the last log lines of the invocation with LogType Tail', async () => {
    const out = await invoke('scripted', { action: 'log', message: 'tail me' }, { LogType: 'Tail' });
    const tail = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    expect(tail).toContain('tail me');
  });

  it('accepts full and partial ARNs and $LATEST, and rejects other qualifiers as not found', async () => {
    const arn = `arn:aws:lambda:${region}:000000000000:function:scripted`;
    const full = decode((await invoke(`${arn}:$LATEST`, { action: 'echo' })).Payload);
    expect(full['invokedFunctionArn']).toBe(`${arn}:$LATEST`);
    const partial = await invoke('000000000000:function:scripted', { action: 'echo' });
    expect(partial.StatusCode).toBe(200);
    await expect(invoke('scripted', {}, { Qualifier: '7' })).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('reports a thrown error as X-Amz-Function-Error Unhandled with the error object as payload', async () => {
    const out = await invoke('scripted', { action: 'throw', message: 'bad thing' });
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const error = decode(out.Payload);
    expect(error['errorType']).toBe('TypeError');
    expect(error['errorMessage']).toBe('bad thing');
    expect(Array.isArray(error['trace'])).toBe(true);
  });

  it('reuses a warm sandbox between invocations', async () => {
    const first = decode((await invoke('sink', { action: 'echo' })).Payload);
    const second = decode((await invoke('sink', { action: 'echo' })).Payload);
    expect(second['pid']).toBe(first['pid']);
    expect(second['invocationsInThisSandbox']).toBe((first['invocationsInThisSandbox'] as number) + 1);
  });

  it('enforces the timeout, even on a busy loop, and replaces the sandbox', async () => {
    const before = decode((await invoke('scripted', { action: 'echo' })).Payload);
    const out = await invoke('scripted', { action: 'busy' });
    expect(out.FunctionError).toBe('Unhandled');
    const error = decode(out.Payload);
    expect(error['errorType']).toBe('Sandbox.Timedout');
    expect(error['errorMessage']).toMatch(/Task timed out after 1\.00 seconds$/);
    const after = decode((await invoke('scripted', { action: 'echo' })).Payload);
    expect(after['pid']).not.toBe(before['pid']);
    expect(after['invocationsInThisSandbox']).toBe(1);
    expect(service.get('scripted').stats().timeouts).toBeGreaterThanOrEqual(1);
  });

  it('turns a crash (process exit or uncaught exception) into a function error and replaces the sandbox', async () => {
    const before = decode((await invoke('scripted', { action: 'echo' })).Payload);
    const exited = await invoke('scripted', { action: 'exit' });
    expect(exited.FunctionError).toBe('Unhandled');
    expect(decode(exited.Payload)['errorMessage']).toMatch(/Runtime exited with error: exit status 3/);
    const crashed = await invoke('scripted', { action: 'crash' });
    expect(decode(crashed.Payload)['errorType']).toBe('Runtime.ExitError');
    const after = decode((await invoke('scripted', { action: 'echo' })).Payload);
    expect(after['pid']).not.toBe(before['pid']);
    const stats = service.get('scripted').stats();
    expect(stats.crashes).toBeGreaterThanOrEqual(2);
    expect(stats.sandboxesReplaced).toBeGreaterThanOrEqual(2);
  });

  it('notices a warm sandbox killed while idle at once, replaces it, and charges the death to no invocation', async () => {
    const before = decode((await invoke('sink', { action: 'echo' })).Payload);
    const fn = service.get('sink');
    const statsBefore = fn.stats();
    process.kill(before['pid'] as number, 'SIGKILL');
    await waitFor(() => (fn.stats().idleDeaths > statsBefore.idleDeaths ? true : undefined), 'the idle death to be noticed');
    // Noticed without any invocation: no error, no crash charged to a request.
    expect(fn.stats()).toMatchObject({ invocations: statsBefore.invocations, errors: statsBefore.errors, crashes: statsBefore.crashes, sandboxes: statsBefore.sandboxes - 1 });
    const after = await invoke('sink', { action: 'echo' });
    expect(after.FunctionError).toBeUndefined();
    expect(decode(after.Payload)['pid']).not.toBe(before['pid']);
    expect(fn.stats()).toMatchObject({ errors: statsBefore.errors, crashes: statsBefore.crashes, idleDeaths: statsBefore.idleDeaths + 1 });
    // The function log is an append stream: wait for the line rather than assume it is flushed.
    const logged = await waitFor(async () => ((await readFile(join(dataRoot, 'logs', 'sink.log'), 'utf8')).match(/exited while idle \(signal: kill\)/) ? true : undefined), 'the log line');
    expect(logged).toBe(true);
  });

  it('supports callback-style handlers (result and error)', async () => {
    const ok = await invoke('callback', {});
    expect(decode(ok.Payload)).toMatchObject({ style: 'callback' });
    const failed = await invoke('callback', { fail: true });
    expect(failed.FunctionError).toBe('Unhandled');
    expect(decode(failed.Payload)).toMatchObject({ errorType: 'RangeError', errorMessage: 'callback failure' });
  });

  it('reports a module that fails to load as a function error (Runtime.ImportModuleError)', async () => {
    const out = await invoke('broken', {});
    expect(out.FunctionError).toBe('Unhandled');
    const error = decode(out.Payload);
    expect(error['errorType']).toBe('Runtime.ImportModuleError');
    expect(error['errorMessage']).toContain('scripted init failure');
  });

  it('gives the sandbox its configured environment, Lambda variables and fake credentials, and nothing else', async () => {
    const body = decode((await invoke('scripted', { action: 'env' })).Payload);
    const env = body['env'] as Record<string, string>;
    expect(env['GREETING']).toBe('hi');
    expect(env['AWS_LAMBDA_FUNCTION_NAME']).toBe('scripted');
    expect(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']).toBe('160');
    expect(env['AWS_LAMBDA_FUNCTION_VERSION']).toBe('$LATEST');
    expect(env['AWS_REGION']).toBe(region);
    expect(env['CONSUMER_NAME']).toBe('scripted');
    expect(env['LOCAL_DATA_DIR']).toBe(dataRoot);
    expect(env['AWS_ENDPOINT_URL_LAMBDA']).toBe(service.endpoint.url);
    expect(env['SINK_FUNCTION_NAME']).toBe('sink');
    expect(env['LOG_LEVEL']).toBe('warn');
    expect(env['AWS_ACCESS_KEY_ID']).toBe('local');
    expect(env['LOCAL_RUNNER_TEST_SECRET']).toBeUndefined();
  });

  it('throttles synchronous invocations beyond reserved concurrency with TooManyRequestsException', async () => {
    const slow = invoke('limited', { action: 'sleep', ms: 1500 });
    await waitFor(() => (service.get('limited').stats().inFlight === 1 ? true : undefined), 'the first invocation to run');
    await expect(invoke('limited', { action: 'echo' })).rejects.toBeInstanceOf(TooManyRequestsException);
    expect((await slow).StatusCode).toBe(200);
  });
});

describe('API errors', () => {
  it('answers ResourceNotFoundException for an unknown function', async () => {
    await expect(invoke('nope', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers InvalidRequestContentException for a body that is not JSON', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'sink', Payload: new TextEncoder().encode('{not json') }))).rejects.toBeInstanceOf(
      InvalidRequestContentException,
    );
  });

  it('answers RequestTooLargeException above the 1 MB asynchronous payload quota', async () => {
    const big = { blob: 'x'.repeat(1024 * 1024) };
    await expect(invoke('sink', big, { InvocationType: 'Event' })).rejects.toBeInstanceOf(RequestTooLargeException);
  });

  it('answers RequestTooLargeException above the 6 MB synchronous payload quota', async () => {
    const big = { blob: 'x'.repeat(6 * 1024 * 1024) };
    await expect(invoke('sink', big)).rejects.toBeInstanceOf(RequestTooLargeException);
  });

  it('answers 204 for DryRun without running the function', async () => {
    const before = service.get('sink').stats().invocations;
    const out = await invoke('sink', { action: 'echo' }, { InvocationType: 'DryRun' });
    expect(out.StatusCode).toBe(204);
    expect(service.get('sink').stats().invocations).toBe(before);
  });
});

describe('Event (asynchronous) invocations', () => {
  it('answers 202 at once, records the request, and runs the function', async () => {
    const before = service.get('sink').stats().succeeded;
    const out = await invoke('sink', { action: 'log', message: 'async hello' }, { InvocationType: 'Event' });
    expect(out.StatusCode).toBe(202);
    const recorded = await readNdjson(new DataDir(dataRoot).invokeRequestsFile('sink'));
    expect(recorded.some((r) => r['invocationType'] === 'Event' && (r['payload'] as { message?: string }).message === 'async hello')).toBe(true);
    await waitFor(() => (service.get('sink').stats().succeeded > before ? true : undefined), 'the async invocation');
    expect(service.get('sink').stats().metrics['RecordsProcessed']).toBeGreaterThanOrEqual(5);
  });

  it('routes a function\'s own client-lambda calls to the local endpoint via AWS_ENDPOINT_URL_LAMBDA', async () => {
    const out = await invoke('scripted', { action: 'invoke', forward: { action: 'echo', from: 'scripted' } });
    expect(decode(out.Payload)['statusCode']).toBe(202);
    const recorded = await waitFor(async () => {
      const lines = await readNdjson(new DataDir(dataRoot).invokeRequestsFile('sink'));
      return lines.find((r) => (r['payload'] as { from?: string }).from === 'scripted');
    }, 'the downstream invocation');
    expect(recorded['invocationType']).toBe('Event');
  });

  it('retries a failing event twice, then writes a RetriesExhausted invocation record', async () => {
    const out = await invoke('sink', { action: 'throw', message: 'always fails' }, { InvocationType: 'Event' });
    expect(out.StatusCode).toBe(202);
    const record = await waitFor(async () => {
      const lines = await readNdjson(new DataDir(dataRoot).onFailureFile('sink'));
      return lines.find((r) => (r['requestPayload'] as { message?: string }).message === 'always fails');
    }, 'the on-failure record');
    expect(record['version']).toBe('1.0');
    expect(record['requestContext']).toMatchObject({
      functionArn: `arn:aws:lambda:${region}:000000000000:function:sink:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    expect(record['responseContext']).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    expect(record['responsePayload']).toMatchObject({ errorType: 'TypeError', errorMessage: 'always fails' });
  });
});

describe('function logs', () => {
  it('writes the function\'s lines and START/END/REPORT lines to logs/<function>.log', async () => {
    await invoke('sink', { action: 'log', message: 'to the file' });
    const text = await waitFor(async () => {
      const content = await readFile(new DataDir(dataRoot).logFile('sink'), 'utf8').catch(() => '');
      return content.includes('to the file') && /REPORT RequestId: \S+\tDuration/.test(content) ? content : undefined;
    }, 'the log file');
    expect(text).toMatch(/START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
  });
});
