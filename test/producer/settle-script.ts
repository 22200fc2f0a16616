/**
 * Run by settle.test.ts as `node --unhandled-rejections=strict --import tsx`: feeds every bad input
 * (bad-inputs.ts) mixed with good ones to producers with aggregation off and on, starting before the
 * shard map has loaded, then flush(), close() and puts after close. Any unhandled rejection crashes
 * this process (strict mode); a put that never settles trips the watchdog. Prints one JSON line.
 *
 * env: KINESIS_ENDPOINT, STREAM, AGGREGATION ("true" | "false").
 */
import { KinesisProducer, type RawRecord } from '../../producers/index';
import { createLogger } from '../../telemetry/logger';
import { badInputs, goodInputs, type Channel } from './bad-inputs';

const endpoint = process.env['KINESIS_ENDPOINT']!;
const streamName = process.env['STREAM']!;
const aggregation = process.env['AGGREGATION'] === 'true';
const logger = createLogger({ name: 'settle', level: 'silent' });

const watchdog = setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ hung: true })}\n`);
  process.exit(3);
}, 60_000);

const strict = new KinesisProducer({ streamName, endpoint, aggregation, logger, lingerMs: 5 });
const lenient = new KinesisProducer<{ key?: unknown }>({
  streamName,
  endpoint,
  aggregation,
  logger,
  lingerMs: 5,
  validate: (input) => {
    if ((input as { explode?: boolean } | null)?.explode) throw new Error('the validator crashed');
    return { ok: true, event: input as { key?: unknown } };
  },
  partitionKey: (event) => event.key as string,
});

function send(channel: Channel, input: unknown): Promise<unknown> {
  if (channel === 'put') return strict.put(input);
  if (channel === 'lenient') return lenient.put(input);
  return strict.putRecord(input as RawRecord);
}

interface Outcome {
  label: string;
  status: 'fulfilled' | 'rejected';
  code?: string | undefined;
  name?: string | undefined;
}

function settle(label: string, promise: Promise<unknown>): Promise<Outcome> {
  return promise.then(
    () => ({ label, status: 'fulfilled' as const }),
    (error: unknown) => ({ label, status: 'rejected' as const, code: (error as { code?: string }).code, name: (error as Error).name }),
  );
}

const bad = badInputs();
const good = goodInputs();
const pending: Promise<Outcome>[] = [];
// Interleaved, synchronously: the first ones arrive before the shard map (aggregation) has loaded.
for (let i = 0; i < Math.max(bad.length, good.length); i++) {
  const b = bad[i];
  if (b) pending.push(settle(b.label, send(b.channel, b.input())));
  const g = good[i];
  if (g) pending.push(settle(`good ${i}`, send(g.channel, g.input)));
}
const buffered = strict.stats().buffered + lenient.stats().buffered;
await Promise.all([strict.flush(), lenient.flush()]);
const outcomes = await Promise.all(pending);
// Same inputs again once the shard map is there (aggregation groups by shard from then on).
const again = await Promise.all(bad.map((b) => settle(`again: ${b.label}`, send(b.channel, b.input()))));
await Promise.all([strict.close(), lenient.close()]);
const afterClose = await Promise.all([
  settle('put after close', strict.put(good[0]!.input)),
  settle('putRecord after close', strict.putRecord({ partitionKey: 'k', data: 'x' })),
  settle('lenient put after close', lenient.put({ key: 'k' })),
]);
await Promise.all([strict.close(), lenient.close(), strict.flush()]);
clearTimeout(watchdog);
process.stdout.write(
  `${JSON.stringify({
    outcomes: [...outcomes, ...again, ...afterClose],
    bufferedWhileSending: buffered,
    stats: [strict.stats(), lenient.stats()],
  })}\n`,
);
