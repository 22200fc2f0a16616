/** `ops tail`: follow a stream, decode, deaggregate and validate every event, one line each. */
import { createContext, resolveStreamName } from '../context';
import { tailStream, type TailStart } from '../aws/stream-tailer';
import { RecordInspector } from '../decode/record-inspector';
import { eventJson, formatEventLine, parseFilters } from '../format/event-line';
import { UsageError } from '../io';
import { defineCommand, intOption, type Command } from './command';

const OPTIONS = {
  stream: { type: 'string' },
  from: { type: 'string' },
  since: { type: 'string' },
  filter: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  limit: { type: 'string' },
  'until-caught-up': { type: 'boolean' },
  'poll-interval-ms': { type: 'string' },
} as const;

const HELP = `Usage: ops tail [--stream NAME] [--from latest|trim-horizon | --since TIME] [--filter F]... [--json]

Follows every shard of the stream and prints one line per event (KPL aggregates are deaggregated):
  <arrival time> <shard> <sequence number>[#sub] key=<partition key> <type> v<version> valid|INVALID <kind>: <reason>
Validation is the consumers' own (schema registry, envelope, hops guard).

Options:
  --stream NAME         stream of the pipeline definition (default: its only stream)
  --from POSITION       latest (default) or trim-horizon
  --since TIME          start at a time: ISO-8601 (2026-01-31T12:00:00Z) or an age (90s, 15m, 2h, 1d)
  --filter F            type=order.placed | key=<partition key> | shard=<shard id> | valid=true|false;
                        repeat it: values of one field are ORed, fields are ANDed
  --json                one JSON object per event
  --limit N             stop after N printed events
  --until-caught-up     stop once every shard is caught up (scripts, tests)
  --poll-interval-ms N  wait between polls of a caught-up shard (default 1000)

Examples:
  npm run ops -- tail --local --from trim-horizon --until-caught-up
  npm run ops -- tail --stage prod --since 15m --filter valid=false
  npm run ops -- tail --stage prod --filter type=order.placed --json --limit 100`;

export const tailCommand: Command = defineCommand({
  name: 'tail',
  summary: 'follow a stream: decoded, deaggregated, validated, one line per event',
  help: HELP,
  options: OPTIONS,
  async run({ values, positionals }, env) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`);
    if (values.from !== undefined && values.since !== undefined) throw new UsageError('--from and --since exclude each other');
    const start = startOf(values.from, values.since);
    let filter;
    try {
      filter = parseFilters(values.filter ?? []);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const limit = values.limit !== undefined ? intOption(values.limit, 'limit', 1) : undefined;
    const ctx = await createContext(values, env);
    const streams = Object.keys(ctx.definition.streams);
    const streamKey = values.stream ?? (streams.length === 1 ? streams[0]! : undefined);
    if (streamKey === undefined) throw new UsageError(`name a stream with --stream: ${streams.join(', ')}`);
    const streamName = resolveStreamName(ctx, streamKey);
    const streamArn = `arn:aws:kinesis:${ctx.region}::stream/${streamName}`;

    const inspector = new RecordInspector();
    let printed = 0;
    await tailStream({
      kinesis: ctx.clients.kinesis,
      streamName,
      start,
      untilCaughtUp: values['until-caught-up'] ?? false,
      timestampByScan: ctx.target === 'local',
      pollIntervalMs: intOption(values['poll-interval-ms'], 'poll-interval-ms', 1000, 0),
      onRecords: (shardId, records) => {
        for (const event of inspector.inspectRecords(records, shardId, streamArn)) {
          // Shards are read concurrently: another shard may deliver after the limit was reached.
          if (limit !== undefined && printed >= limit) return false;
          if (!filter(event)) continue;
          env.io.out(values.json ? eventJson(event) : formatEventLine(event));
          printed += 1;
          if (limit !== undefined && printed >= limit) return false;
        }
        return true;
      },
    });
    return 0;
  },
});

function startOf(from: string | undefined, since: string | undefined): TailStart {
  if (since !== undefined) return { type: 'AT_TIMESTAMP', timestamp: parseSince(since) };
  switch ((from ?? 'latest').toLowerCase()) {
    case 'latest':
      return { type: 'LATEST' };
    case 'trim-horizon':
    case 'trim_horizon':
      return { type: 'TRIM_HORIZON' };
    default:
      throw new UsageError(`--from must be latest or trim-horizon, got "${from}"`);
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSince(value: string, now = Date.now()): Date {
  const age = /^(\d+)([smhd])$/.exec(value);
  if (age) return new Date(now - Number(age[1]) * UNITS[age[2]!]!);
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`--since must be an ISO-8601 time (2026-01-31T12:00:00Z) or an age (90s, 15m, 2h, 1d), got "${value}"`);
  }
  return date;
}
