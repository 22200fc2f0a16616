import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import { buildReviewRequest } from '../../consumers/order-review/review-request';
import { createLogger } from '../../telemetry/logger';

const REASONS = [{ code: 'bulk-quantity', message: 'more than 20 units of one SKU: SKU-10001 x21' }] as const;
const context = { awsRequestId: 'req-1' };

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'review-intake-'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
  await rm(dataDir, { recursive: true, force: true });
});

/** The exported Lambda entry point, loaded fresh with the given environment (init runs at module load). */
async function loadHandler(env: Record<string, string>) {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.resetModules();
  return (await import('../../consumers/review-intake/handler')).handler;
}

describe('review-intake handler', () => {
  it('accepts a valid request, appends it under invocations/ and emits an EMF count', async () => {
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const request = buildReviewRequest(createFixtures({ seed: 51 }).orderPlaced(), REASONS);
    const result = await handler(JSON.parse(JSON.stringify(request)), context);
    expect(result).toEqual({ accepted: true, orderId: request.orderId, sourceEventId: request.sourceEventId, duplicate: false });
    const lines = (await readFile(join(dataDir, 'invocations', 'review-intake.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([request]);
    const emf = stdout.map((l) => JSON.parse(l)).find((d) => d._aws !== undefined);
    expect(emf).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'KinesisPipeline/Consumers', Dimensions: [['FunctionName']], Metrics: [{ Name: 'ReviewRequestsAccepted', Unit: 'Count' }] }] },
      FunctionName: 'review-intake',
      ReviewRequestsAccepted: 1,
    });
  });

  it('throws a clear error for an invalid request and records nothing', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const request = { ...buildReviewRequest(createFixtures({ seed: 52 }).orderPlaced(), REASONS), amountMinor: -1 };
    await expect(handler(request, context)).rejects.toThrow('invalid review request: amountMinor: must not be negative');
    await expect(readFile(join(dataDir, 'invocations', 'review-intake.ndjson'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('fails at load with the variable name when MAX_HOPS is malformed', async () => {
    await expect(loadHandler({ MAX_HOPS: 'lots' })).rejects.toThrow('MAX_HOPS must be a non-negative integer, got "lots"');
  });

  it('logs the request without personal data and without the rejected values', async () => {
    const { createReviewIntakeHandler, readReviewIntakeConfig } = await import('../../consumers/review-intake/handler');
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const emf: string[] = [];
    const intake = createReviewIntakeHandler({
      config: readReviewIntakeConfig({}),
      logger: createLogger({ name: 'review-intake', level: 'info', destination }),
      emf: (line) => emf.push(line),
    });
    const placed = createFixtures({ seed: 53 }).orderPlaced();
    await intake(buildReviewRequest(placed, REASONS), context);
    await expect(intake({ orderId: 'x', email: 'secret@example.com' }, context)).rejects.toThrow(/invalid review request/);
    const text = lines.join('');
    expect(text).toContain('review request accepted');
    expect(text).toContain(placed.data.orderId);
    expect(text).not.toContain(placed.data.customer.email);
    expect(text).not.toContain('secret@example.com');
    expect(emf.map((l) => Object.keys(JSON.parse(l)).filter((k) => k.startsWith('ReviewRequests')))).toEqual([['ReviewRequestsAccepted'], ['ReviewRequestsRejected']]);
  });
});
