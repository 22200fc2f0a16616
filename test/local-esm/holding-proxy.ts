/**
 * An HTTP proxy in front of a Kinesis emulator that never answers the requests of one API (it holds
 * them open) and forwards everything else: a Kinesis call that gets no answer, to prove the mapping
 * aborts it on stop() instead of waiting for the client's request timeout.
 */
import { once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  readonly endpoint: string;
  /** Held requests so far. */
  readonly held: number;
  /** Held requests whose connection the client closed (aborted). */
  readonly abortedByClient: number;
  /** Forward the held requests (those still open) that pass `which` (default: all, and stop holding). */
  release(which?: (body: Record<string, unknown>) => boolean): void;
  stop(): Promise<void>;
}

export interface HoldingOptions {
  /** Hold only requests of `operation` whose JSON body passes this test (default: all of them). */
  readonly holdWhen?: (body: Record<string, unknown>) => boolean;
}

/** `operation` is the Kinesis API name, e.g. 'GetRecords' (matched on the X-Amz-Target header). */
export async function startHoldingProxy(target: string, operation: string, options: HoldingOptions = {}): Promise<HoldingProxy> {
  const upstream = new URL(target);
  const heldResponses: ServerResponse[] = [];
  const heldForwards: { body: Record<string, unknown>; forward: () => void }[] = [];
  let holding = true;
  let abortedByClient = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        /* not JSON: matched as an empty body */
      }
      const hold = holding && String(req.headers['x-amz-target'] ?? '').endsWith(`.${operation}`) && (options.holdWhen?.(body) ?? true);
      if (hold) {
        heldResponses.push(res);
        heldForwards.push({
          body,
          forward: () => {
            if (!res.destroyed && !res.writableEnded) pass();
          },
        });
        res.on('close', () => {
          if (!res.writableEnded) abortedByClient += 1;
        });
        return;
      }
      pass();
    });
    const pass = () => {
      const forward = request(
        { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    };
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get held() {
      return heldResponses.length;
    },
    get abortedByClient() {
      return abortedByClient;
    },
    release(which) {
      if (which === undefined) holding = false;
      for (const entry of [...heldForwards]) {
        if (which !== undefined && !which(entry.body)) continue;
        heldForwards.splice(heldForwards.indexOf(entry), 1);
        entry.forward();
      }
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
