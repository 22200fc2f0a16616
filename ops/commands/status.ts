/** `ops status`: one row per consumer — mapping, last result, iterator age, errors, queues, alarms; exit 1 when unhealthy. */
import { createContext, type OpsContext } from '../context';
import { formatCount, formatDuration, formatTable } from '../format/table';
import { UsageError } from '../io';
import { collectAwsStatus } from '../status/aws-status';
import { healthNotes, unhealthyReasons, type ConsumerStatus } from '../status/consumer-status';
import { collectLocalStatus } from '../status/local-status';
import { defineCommand, type Command } from './command';

const OPTIONS = { json: { type: 'boolean' } } as const;

const HELP = `Usage: ops status [<consumer>...] [--json]

Per consumer: event source mapping state and last processing result (GetEventSourceMapping),
IteratorAge (latest 1-minute maximum), Errors and Throttles over the last hour (CloudWatch
GetMetricData), on-failure and quarantine queue depths (GetQueueAttributes), and the consumer's
alarms in ALARM (DescribeAlarms, prefix <pipeline>-<stage>-); then every other alarm of the stage
in ALARM. With --local the same table comes from the local runner's runner.json and data files.

Exit code: 0 when everything is healthy, 1 when anything needs attention (mapping not enabled,
PROBLEM result, iterator age over the alarm threshold, errors, throttles, waiting on-failure or
quarantine records, alarms), 2 on usage errors. Every UNHEALTHY row says why. Locally, quarantined
records the runner expects (its synthetic upstream's deliberately invalid events, and lines earlier
runs left) are reported, not judged: only quarantined valid events or foreign input are.

Options:
  --json    the rows as JSON (with the reasons)

Examples:
  npm run ops -- status --stage prod
  npm run ops -- status order-review --stage staging --json
  npm run ops -- status --local`;

export const statusCommand: Command = defineCommand({
  name: 'status',
  summary: "each consumer's health: mapping, iterator age, errors, queues, alarms",
  help: HELP,
  options: OPTIONS,
  async run({ values, positionals }, env) {
    const ctx = await createContext(values, env);
    const all = Object.keys(ctx.definition.consumers);
    for (const name of positionals) if (!all.includes(name)) throw new UsageError(`unknown consumer "${name}"; consumers: ${all.join(', ')}`);
    const consumers = positionals.length > 0 ? positionals : all;
    return ctx.target === 'local' ? localStatus(ctx, consumers, values.json ?? false) : awsStatus(ctx, consumers, values.json ?? false);
  },
});

const HEADER = ['CONSUMER', 'MAPPING', 'LAST RESULT', 'ITER AGE', 'ERR 1h', 'THR 1h', 'ON-FAIL', 'QUAR', 'ALARMS', 'HEALTH'];

function row(r: ConsumerStatus, reasons: readonly string[]): string[] {
  return [
    r.consumer,
    r.mappingState ?? 'none',
    r.lastResult ?? '-',
    formatDuration(r.iteratorAgeMs),
    formatCount(r.errors),
    formatCount(r.throttles),
    formatCount(r.onFailureDepth),
    formatCount(r.quarantineDepth),
    String(r.alarms.length),
    reasons.length === 0 ? ['ok', ...healthNotes(r)].join(': ') : `UNHEALTHY: ${reasons.join('; ')}`,
  ];
}

async function awsStatus(ctx: OpsContext, consumers: readonly string[], json: boolean): Promise<number> {
  const status = await collectAwsStatus(ctx, consumers);
  const judged = status.rows.map((r) => ({ ...r, reasons: unhealthyReasons(r, ['Enabled']) }));
  const consumerAlarms = new Set(judged.flatMap((r) => r.alarms));
  const otherAlarms = status.alarms.filter((a) => !consumerAlarms.has(a.name));
  const healthy = judged.every((r) => r.reasons.length === 0) && otherAlarms.length === 0;
  if (json) {
    ctx.io.out(JSON.stringify({ target: 'aws', stage: ctx.stage, region: ctx.region, healthy, consumers: judged, alarms: status.alarms }));
  } else {
    ctx.io.out(`stage ${ctx.stage} (${ctx.region})`);
    for (const line of formatTable(HEADER, judged.map((r) => row(r, r.reasons)))) ctx.io.out(line);
    for (const a of status.alarms) ctx.io.out(`ALARM ${a.name}${a.since ? ` since ${a.since.toISOString()}` : ''}: ${a.reason ?? ''}`);
    ctx.io.out(healthy ? 'healthy' : 'UNHEALTHY');
  }
  return healthy ? 0 : 1;
}

async function localStatus(ctx: OpsContext, consumers: readonly string[], json: boolean): Promise<number> {
  const status = await collectLocalStatus(ctx, consumers);
  const judged = status.rows.map((r) => ({ ...r, reasons: unhealthyReasons(r, ['running']), notes: healthNotes(r) }));
  const healthy = status.runnerAlive && judged.every((r) => r.reasons.length === 0);
  if (json) {
    ctx.io.out(JSON.stringify({ target: 'local', dataDir: ctx.dataDir, runnerAlive: status.runnerAlive, healthy, consumers: judged }));
  } else {
    const runner = status.runnerAlive ? `running (pid ${ctx.runner?.pid}), updated ${status.updatedAt ?? '?'}` : `NOT RUNNING (last state ${status.runnerState ?? '?'})`;
    ctx.io.out(`local runner ${runner}; data ${ctx.dataDir}`);
    for (const line of formatTable(HEADER, judged.map((r) => row(r, r.reasons)))) ctx.io.out(line);
    if (!status.runnerAlive) ctx.io.out('UNHEALTHY: the local runner is not running (start it with `npm start`)');
    else ctx.io.out(healthy ? 'healthy' : 'UNHEALTHY');
  }
  return healthy ? 0 : 1;
}
