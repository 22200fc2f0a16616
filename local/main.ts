/**
 * `npm start`: the whole pipeline on this machine (see `npm start -- --help`).
 * Live view on a terminal, JSON lines otherwise; Ctrl-C (SIGINT/SIGTERM) drains and summarises;
 * a second Ctrl-C, a second or more later, stops at once (stop-signals.ts: echoes of one Ctrl-C never
 * force). Exit code 0 when every produced event is accounted for.
 */
import { debug, failCleanly } from '../cli/fail-cleanly';
import { explainError, formatError } from '../cli/explain-error';
import { HELP, UsageError, parseCliOptions, type CliOptions } from './cli-options';
import { renderSummary, renderView, TerminalView, plain } from './live-view';
import { DashboardUsageError, startRunDashboard, type LocalDashboard } from './dashboard/local-dashboard';
import { StageNotFoundError } from './dashboard/deployed-definitions';
import { PROJECT_ROOT, startLocalPipeline, type LocalPipeline } from './pipeline-runner';
import { onStopSignals } from './stop-signals';
import { timeBasedSeed } from './synthetic-upstream';

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCliOptions(process.argv.slice(2), process.stdout.isTTY === true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${HELP}\n`);
    return 2;
  }
  if (cli.help) {
    write(HELP);
    return 0;
  }

  const view = cli.ui ? new TerminalView(process.stdout) : undefined;
  // Signals are handled from the start: a Ctrl-C during startup stops cleanly once started (a
  // default SIGINT death would skip the exit handlers that stop the engines and sandboxes).
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  onStopSignals({
    drain: (signal) => {
      // The live view shows the draining state itself; JSON-line mode acknowledges once on stderr.
      if (!view) process.stderr.write(`${signal}: draining (the upstream stops, consumers finish); Ctrl-C again, a second or more later, stops at once\n`);
      stopRequested?.();
    },
    force: (signal) => {
      view?.close();
      process.stderr.write(`\n${signal} again: stopping at once, without draining\n`);
      process.exit(130);
    },
  });

  // The seed of the synthetic upstream is always recorded (here, in runner.json and in the summary),
  // so a time-seeded run can be replayed with --seed.
  cli.pipeline.seed ??= timeBasedSeed();
  if (!view) write(JSON.stringify({ type: 'starting', at: new Date().toISOString(), seed: cli.pipeline.seed, options: cli.pipeline }));
  else process.stdout.write('starting the local pipeline (Kinesis, streams, functions)...\n');

  let dashboard: LocalDashboard | undefined;
  try {
    dashboard = await startRunDashboard(cli.dashboard, cli.pipeline, PROJECT_ROOT);
  } catch (error) {
    view?.close();
    const known = error instanceof DashboardUsageError || error instanceof StageNotFoundError;
    process.stderr.write(`error: the dashboard could not start: ${(error as Error).message}${known ? '' : ' (--no-dashboard runs without it)'}\n`);
    return known ? 2 : 1;
  }
  if (dashboard && !view) write(JSON.stringify({ type: 'dashboard', url: dashboard.url, stage: dashboard.definitions.stage, timeScale: dashboard.timeScale }));

  let pipeline: LocalPipeline;
  try {
    pipeline = await startLocalPipeline({ ...cli.pipeline, ...(dashboard?.url !== undefined ? { dashboardUrl: dashboard.url } : {}) });
  } catch (error) {
    view?.close();
    await dashboard?.close();
    process.stderr.write(`${formatError(error, { command: 'the local pipeline could not start', debug })}\n`);
    return explainError(error).exitCode;
  }
  await dashboard?.attach(pipeline);

  const show = () => {
    const snapshot = pipeline.snapshot();
    if (view) view.draw(withDashboard(renderView(snapshot), dashboard));
    else write(JSON.stringify({ type: 'stats', ...snapshot }));
  };
  show();
  let timer = setInterval(show, cli.intervalSeconds * 1000);

  const durationTimer = cli.durationSeconds !== undefined ? setTimeout(() => stopRequested?.(), cli.durationSeconds * 1000) : undefined;

  await stopSignal;
  clearTimeout(durationTimer);
  // One line (or frame) now, then the drain progressing: the live view every 500 ms, JSON lines at
  // their own pace. The refresh timer restarts here, so a tick due at this moment (a --duration that
  // is a multiple of --interval) cannot print the same draining line twice.
  clearInterval(timer);
  const stopping = pipeline.stop({ drainTimeoutMs: cli.drainTimeoutSeconds * 1000 });
  show();
  timer = setInterval(show, view ? 500 : cli.intervalSeconds * 1000);
  const summary = await stopping;
  await dashboard?.finish();
  clearInterval(timer);
  if (view) {
    view.draw(withDashboard(renderView(pipeline.snapshot()), dashboard));
    view.close();
    for (const line of [...renderSummary(summary), ...(dashboard?.summaryLines() ?? [])]) write(line);
  } else {
    write(JSON.stringify({ type: 'summary', ...summary }));
    if (dashboard) write(JSON.stringify({ type: 'alarms', stage: dashboard.definitions.stage, timeScale: dashboard.timeScale, alarms: dashboard.alarms() }));
    process.stderr.write(`${[...renderSummary(summary), ...(dashboard?.summaryLines() ?? [])].map(plain).join('\n')}\n`);
  }
  await dashboard?.close();
  // Accounted for AND healthy: e.g. checkpoints that could not be stored fail the run (a restart would replay).
  return summary.accounted && summary.health.problems.length === 0 ? 0 : 1;
}

/** The live view with the dashboard's address under its title line and the alarm states at the end. */
function withDashboard(lines: string[], dashboard: LocalDashboard | undefined): string[] {
  if (!dashboard) return lines;
  const [address, ...alarms] = dashboard.viewLines();
  return [lines[0] ?? '', ...(address !== undefined ? [address] : []), ...lines.slice(1), ...alarms];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => failCleanly(error),
);
