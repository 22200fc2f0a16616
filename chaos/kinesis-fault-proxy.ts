/**
 * A Kinesis fault proxy for `npm run chaos`, on 127.0.0.1 between the pipeline (producer, event
 * source mappings, ops) and the Kinesis engine. Faults are SCHEDULED, never random: every n-th
 * request of an operation gets its fault, so a run is reproducible and `counts` proves each fault
 * happened. Faults (Kinesis API reference error shapes, awsJson1_1 protocol):
 * - `throttle`: 400 ProvisionedThroughputExceededException, nothing forwarded (GetRecords, PutRecords);
 * - `entryThrottle` (PutRecords): every other entry fails with ProvisionedThroughputExceededException
 *   and is not written; the others are forwarded and their results merged (a partial failure);
 * - `http500`: 500 InternalFailure, nothing forwarded;
 * - `reset`: the connection is destroyed before forwarding (nothing written);
 * - `resetAfterForward`: forwarded (the engine applies it), then the connection is destroyed: the
 *   ambiguous write the producer retries, so the stream holds the records twice;
 * - `latency`: forwarded after `latencyMs`;
 * - `hang`: never answered (the client's request timeout ends it); nothing forwarded.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type KinesisFault = 'throttle' | 'entryThrottle' | 'http500' | 'reset' | 'resetAfterForward' | 'latency' | 'hang';

export interface ScheduledFault {
  /** Kinesis operation (x-amz-target suffix), e.g. GetRecords, PutRecords. */
  readonly operation: string;
  /** Every n-th request of that operation (counted while faults are on). */
  readonly every: number;
  readonly fault: KinesisFault;
  /** At most this many times (default unlimited). */
  readonly limit?: number;
}

export interface FaultProxyCounts {
  requests: Record<string, number>;
  faults: Record<string, number>;
}

export interface KinesisFaultProxy {
  readonly endpoint: string;
  readonly counts: FaultProxyCounts;
  /** Faults on (with this plan) or off (everything passes through). */
  setFaults(plan: readonly ScheduledFault[] | undefined): void;
  stop(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.1';

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'content-type': JSON_TYPE, 'x-amzn-errortype': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startKinesisFaultProxy(upstream: string, options: { latencyMs?: number } = {}): Promise<KinesisFaultProxy> {
  const target = new URL(upstream);
  const latencyMs = options.latencyMs ?? 300;
  let plan: readonly ScheduledFault[] | undefined;
  const seen = new Map<string, number>();
  const used = new Map<ScheduledFault, number>();
  const counts: FaultProxyCounts = { requests: {}, faults: {} };
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const out = request({ hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h[k] = v;
          resolve({ status: res.statusCode ?? 500, headers: h, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const reply = (res: ServerResponse, r: { status: number; headers: Record<string, string>; body: Buffer }) => {
    const headers: Record<string, string> = { ...r.headers, 'content-length': String(r.body.length) };
    delete headers['transfer-encoding'];
    res.writeHead(r.status, headers);
    res.end(r.body);
  };

  const pick = (operation: string): KinesisFault | undefined => {
    if (plan === undefined) return undefined;
    const n = (seen.get(operation) ?? 0) + 1;
    seen.set(operation, n);
    for (const f of plan) {
      if (f.operation !== operation || n % f.every !== 0) continue;
      if (f.limit !== undefined && (used.get(f) ?? 0) >= f.limit) continue;
      used.set(f, (used.get(f) ?? 0) + 1);
      return f.fault;
    }
    return undefined;
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    counts.requests[operation] = (counts.requests[operation] ?? 0) + 1;
    const fault = pick(operation);
    if (fault !== undefined) counts.faults[`${operation}:${fault}`] = (counts.faults[`${operation}:${fault}`] ?? 0) + 1;
    try {
      switch (fault) {
        case 'throttle':
          return sendError(res, 400, 'ProvisionedThroughputExceededException', 'Rate exceeded for shard (chaos fault proxy)');
        case 'http500':
          return sendError(res, 500, 'InternalFailure', 'chaos fault proxy: internal failure');
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          hung.add(res);
          return;
        case 'resetAfterForward':
          await forward(req, body);
          req.socket.destroy();
          return;
        case 'latency':
          await new Promise((r) => setTimeout(r, latencyMs));
          return reply(res, await forward(req, body));
        case 'entryThrottle':
          if (operation === 'PutRecords') return reply(res, await partiallyThrottled(req, body));
          return reply(res, await forward(req, body));
        default:
          return reply(res, await forward(req, body));
      }
    } catch {
      if (!res.headersSent) sendError(res, 500, 'InternalFailure', 'chaos fault proxy: upstream unreachable');
      else res.destroy();
    }
  });

  /** Every other entry failed with ProvisionedThroughputExceededException (not forwarded); the rest written. */
  async function partiallyThrottled(req: IncomingMessage, body: Buffer) {
    const input = JSON.parse(body.toString('utf8')) as { Records: unknown[] };
    const keep = input.Records.filter((_, i) => i % 2 === 1);
    const results: unknown[] = new Array(input.Records.length);
    let forwardedResults: { SequenceNumber?: string; ShardId?: string; ErrorCode?: string }[] = [];
    if (keep.length > 0) {
      const r = await forward(req, Buffer.from(JSON.stringify({ ...input, Records: keep })));
      if (r.status !== 200) return r;
      forwardedResults = (JSON.parse(r.body.toString('utf8')) as { Records: typeof forwardedResults }).Records;
    }
    let failed = 0;
    let k = 0;
    for (let i = 0; i < input.Records.length; i++) {
      if (i % 2 === 1) {
        const f = forwardedResults[k++]!;
        if (f.ErrorCode !== undefined) failed++;
        results[i] = f;
      } else {
        failed++;
        results[i] = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (chaos fault proxy)' };
      }
    }
    return { status: 200, headers: { 'content-type': JSON_TYPE }, body: Buffer.from(JSON.stringify({ FailedRecordCount: failed, Records: results })) };
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    setFaults(next) {
      plan = next;
      seen.clear();
      used.clear();
      if (next === undefined) {
        for (const res of hung) res.destroy();
        hung.clear();
      }
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
