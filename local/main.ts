/**
 * `npm start`: the whole pipeline on this machine (see `npm start -- --help`).
 * Live view on a terminal, JSON lines otherwise; Ctrl-C (SIGINT/SIGTERM) drains and summarises;
 * a second Ctrl-C stops at once. Exit code 0 when every produced event is accounted for.
 */
import { HELP, UsageError, parseCliOptions, type CliOptions } from './cli-options';
import { renderSummary, renderView, TerminalView, plain } from './live-view';
import { DashboardUsageError, startRunDashboard, type LocalDashboard } from './dashboard/local-dashboard';
import { StageNotFoundError } from './dashboard/deployed-definitions';
import { PROJECT_ROOT, startLocalPipeline, type LocalPipeline } from './pipeline-runner';

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
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      view?.close();
      process.stderr.write(`\n${signal} again: stopping at once, without draining\n`);
      process.exit(130);
    }
    stopRequested?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (!view) write(JSON.stringify({ type: 'starting', at: new Date().toISOString(), options: cli.pipeline }));
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
    process.stderr.write(`error: the local pipeline could not start: ${(error as Error).message}\n`);
    return 1;
  }
  await dashboard?.attach(pipeline);

  const show = () => {
    const snapshot = pipeline.snapshot();
    if (view) view.draw(withDashboard(renderView(snapshot), dashboard));
    else write(JSON.stringify({ type: 'stats', ...snapshot }));
  };
  show();
  const timer = setInterval(show, cli.intervalSeconds * 1000);

  const durationTimer = cli.durationSeconds !== undefined ? setTimeout(() => stopRequested?.(), cli.durationSeconds * 1000) : undefined;

  await stopSignal;
  clearTimeout(durationTimer);
  // The live view shows the drain progressing; JSON lines keep their own pace.
  const drainView = view ? setInterval(show, 500) : undefined;
  const stopping = pipeline.stop({ drainTimeoutMs: cli.drainTimeoutSeconds * 1000 });
  show();
  const summary = await stopping;
  await dashboard?.finish();
  if (drainView) clearInterval(drainView);
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
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
