/** `npm start` flags (node:util parseArgs), validated into LocalPipelineOptions. */
import { parseArgs } from 'node:util';
import { joinNegativeValues } from '../cli/negative-values';
import type { LocalPipelineOptions } from './pipeline-runner';

export const HELP = `Usage: npm start -- [options]

Runs the pipeline of pipeline/pipeline.ts on this machine: an embedded Kinesis,
its streams, every consumer under a local event source mapping, every function
behind a local Lambda Invoke endpoint, and a synthetic upstream.
Ctrl-C drains and prints a summary.

Kinesis
  --kinesis <engine>     kinesalite (default, in-process) or kinesis-local
                         (kinesis-mock, LocalStack's engine; slower to start)
  --endpoint <url>       an existing Kinesis instead, e.g. a LocalStack at
                         http://localhost:4566 (streams are created if missing)
  --persist-stream       kinesalite only: keep streams and records across
                         restarts in <data-dir>/kinesalite, and the consumers'
                         checkpoints in <data-dir>/checkpoints (a restart
                         resumes where the last run stopped)
  --region <region>      default: AWS_REGION, else us-east-1

Synthetic upstream
  --rate <n>             events per second per stream (default 50; 0 = none)
  --invalid-fraction <f> fraction of invalid events, 0..1 (default 0.02)
  --events <n>           stop producing after n events per stream
  --seed <n>             fixture seed (default: time-based)

Dashboard (a stage's CloudWatch dashboard and alarms over this run's metrics)
  --no-dashboard         no web page and no alarm evaluation
  --dashboard-stage <s>  whose alarms and widgets: stages/<s>.json (default dev)
  --time-scale <n>       divide every alarm period by n (default 1, as deployed)
                         e.g. 60 turns 60 s periods into 1 s; stated on the page
  --dashboard-port <n>   port on 127.0.0.1 (default: a free one, printed)

Run
  --duration <s>         stop by itself after s seconds (drain, summarise)
  --drain-timeout <s>    longest wait for the consumers on stop (default 60)
  --data-dir <path>      local data folder (default .data)
  --log-level <level>    LOG_LEVEL of the functions (default warn); their logs
                         go to <data-dir>/logs/<function>.log
  --no-ui                JSON lines instead of the live view (the default
                         when stdout is not a terminal)
  --interval <s>         refresh period: view 1 s, JSON lines 5 s by default
  --debug                stack traces on errors (also DEBUG=1)
  -h, --help             this text

Exit code: 0 when every produced event is accounted for, 1 when not,
2 on bad usage.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface DashboardCliOptions {
  enabled: boolean;
  stage: string;
  timeScale: number;
  port?: number;
}

export interface CliOptions {
  help: boolean;
  dashboard: DashboardCliOptions;
  pipeline: LocalPipelineOptions;
  durationSeconds?: number;
  drainTimeoutSeconds: number;
  ui: boolean;
  intervalSeconds: number;
}

function number(name: string, raw: string | undefined, check: (n: number) => boolean, rule: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`--${name} must be ${rule}, got "${raw}"`);
  return value;
}

export function parseCliOptions(argv: readonly string[], isTty: boolean): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        kinesis: { type: 'string' },
        endpoint: { type: 'string' },
        'persist-stream': { type: 'boolean' },
        region: { type: 'string' },
        rate: { type: 'string' },
        'invalid-fraction': { type: 'string' },
        events: { type: 'string' },
        seed: { type: 'string' },
        duration: { type: 'string' },
        'drain-timeout': { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'no-ui': { type: 'boolean' },
        interval: { type: 'string' },
        'no-dashboard': { type: 'boolean' },
        'dashboard-stage': { type: 'string' },
        'time-scale': { type: 'string' },
        'dashboard-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.kinesis !== undefined && v.kinesis !== 'kinesalite' && v.kinesis !== 'kinesis-local') {
    throw new UsageError(`--kinesis must be kinesalite or kinesis-local, got "${v.kinesis}"`);
  }
  if (v.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(v.endpoint);
    } catch {
      throw new UsageError(`--endpoint must be a URL such as http://localhost:4566, got "${v.endpoint}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--endpoint must be an http(s) URL, got "${v.endpoint}"`);
    if (v.kinesis !== undefined) throw new UsageError('--endpoint and --kinesis exclude each other: --endpoint uses an existing Kinesis');
  }
  if (v['persist-stream'] && (v.endpoint !== undefined || v.kinesis === 'kinesis-local')) {
    throw new UsageError('--persist-stream applies to the embedded kinesalite only');
  }
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  if (v['log-level'] !== undefined && !levels.includes(v['log-level'])) {
    throw new UsageError(`--log-level must be one of ${levels.join(', ')}, got "${v['log-level']}"`);
  }
  const rate = number('rate', v.rate, (n) => n >= 0 && n <= 100_000, 'a number of events per second between 0 and 100000');
  const invalidFraction = number('invalid-fraction', v['invalid-fraction'], (n) => n >= 0 && n <= 1, 'between 0 and 1');
  const events = number('events', v.events, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  const seed = number('seed', v.seed, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');
  const duration = number('duration', v.duration, (n) => n > 0, 'a positive number of seconds');
  const drain = number('drain-timeout', v['drain-timeout'], (n) => n > 0, 'a positive number of seconds');
  const interval = number('interval', v.interval, (n) => n >= 0.2, 'at least 0.2 seconds');
  const timeScale = number('time-scale', v['time-scale'], (n) => n >= 1 && n <= 3600, 'a number between 1 and 3600');
  const dashboardPort = number('dashboard-port', v['dashboard-port'], (n) => Number.isInteger(n) && n >= 1 && n <= 65535, 'a port number (1-65535)');
  const dashboardStage = v['dashboard-stage'];
  if (dashboardStage !== undefined && !/^[a-z][a-z0-9-]{0,39}$/.test(dashboardStage)) {
    throw new UsageError(`--dashboard-stage must name a file of stages/ such as dev, got "${dashboardStage}"`);
  }
  if (v['no-dashboard'] && (timeScale !== undefined || dashboardPort !== undefined || dashboardStage !== undefined)) {
    throw new UsageError('--no-dashboard excludes --dashboard-stage, --time-scale and --dashboard-port');
  }
  const ui = !v['no-ui'] && isTty;
  const pipeline: LocalPipelineOptions = {
    ...(v.kinesis !== undefined ? { kinesis: v.kinesis } : {}),
    ...(v.endpoint !== undefined ? { endpoint: v.endpoint } : {}),
    ...(v['persist-stream'] ? { persistStream: true } : {}),
    ...(v.region !== undefined ? { region: v.region } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(invalidFraction !== undefined ? { invalidFraction } : {}),
    ...(events !== undefined ? { events } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(v['data-dir'] !== undefined ? { dataDir: v['data-dir'] } : {}),
    ...(v['log-level'] !== undefined ? { functionLogLevel: v['log-level'] } : {}),
  };
  return {
    help: v.help ?? false,
    dashboard: {
      enabled: !v['no-dashboard'],
      stage: dashboardStage ?? 'dev',
      timeScale: timeScale ?? 1,
      ...(dashboardPort !== undefined ? { port: dashboardPort } : {}),
    },
    pipeline,
    ...(duration !== undefined ? { durationSeconds: duration } : {}),
    drainTimeoutSeconds: drain ?? 60,
    ui,
    intervalSeconds: interval ?? (ui ? 1 : 5),
  };
}
