/**
 * The chaos `poison` scenario's consumer entry: the real reference consumer (CHAOS_WRAPPED_ENTRY:
 * `order-review` or `order-metrics`), except for three poison records, chosen at run time as the
 * first valid-looking events whose id hashes to a kind (claimed once per data folder with an
 * exclusive-create marker file, so every redelivery of that event meets the same fault):
 * - `throw`: the invocation throws every time it contains the record;
 * - `crash`: the worker process exits every time;
 * - `hang`: the invocation hangs past the function timeout every time.
 * Everything else runs the real handler, unchanged.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context, KinesisStreamEvent } from 'aws-lambda';

type Kind = 'throw' | 'crash' | 'hang';
const KINDS: readonly Kind[] = ['throw', 'crash', 'hang'];
const dataDir = process.env['LOCAL_DATA_DIR'] ?? '.';
const consumer = process.env['CONSUMER_NAME'] ?? 'consumer';
/** One event in this many is a candidate of each kind (by id hash). */
const ONE_IN = 40;

type Handler = (e: KinesisStreamEvent, c: Context) => Promise<unknown>;
let real: Promise<Handler> | undefined;
const load = (): Promise<Handler> =>
  (real ??= (process.env['CHAOS_WRAPPED_ENTRY'] === 'order-review' ? import('../consumers/order-review/handler') : import('../consumers/order-metrics/handler')).then(
    (m) => m.handler as unknown as Handler,
  ));

function idOf(data: string): string | undefined {
  try {
    return (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id?: string }).id;
  } catch {
    return undefined;
  }
}

const marker = (kind: Kind) => join(dataDir, `chaos-poison.${consumer}.${kind}`);

/** The poison event of `kind`, claiming `candidate` for it if none is chosen yet. */
function poisonOf(kind: Kind, candidate: string): string | undefined {
  try {
    return readFileSync(marker(kind), 'utf8');
  } catch {
    const hash = createHash('sha256').update(candidate).digest().readUInt32BE(0);
    if (hash % ONE_IN !== KINDS.indexOf(kind)) return undefined;
    try {
      writeFileSync(marker(kind), candidate, { flag: 'wx' });
    } catch {
      /* claimed by another worker meanwhile */
    }
    return readFileSync(marker(kind), 'utf8');
  }
}

export async function handler(event: KinesisStreamEvent, context: Context): Promise<unknown> {
  for (const record of event.Records ?? []) {
    const id = idOf(record.kinesis.data);
    if (id === undefined) continue;
    if (poisonOf('crash', id) === id) process.exit(7);
    if (poisonOf('hang', id) === id) await new Promise(() => undefined);
    if (poisonOf('throw', id) === id) throw new Error(`chaos poison record ${id}: always fails`);
  }
  return (await load())(event, context);
}
