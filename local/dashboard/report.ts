/**
 * The HTML report of a local run: the same charts and alarm states as the live page, rebuilt from
 * the series kept in the data folder (dashboard/), plus the accounting summary of runner.json. One
 * self-contained file (uPlot and the data inlined) that opens offline, e.g. attached to a ticket.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '../runner-types';
import { clockTime } from './alarm-lines';
import { DashboardModel, type DashboardState } from './dashboard-model';
import { renderPage } from './page';
import { readSeriesFiles } from './series-files';

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The run's dashboard state, replayed tick by tick from the data folder. */
export async function replayRun(dataDir: string): Promise<DashboardState> {
  const { run, ticks } = await readSeriesFiles(dataDir);
  const model = new DashboardModel(run.definitions, { pipeline: run.pipeline, timeScale: run.timeScale, startedAt: run.startedAt });
  for (const tick of ticks) model.addTick(tick.t, tick.samples);
  model.close();
  return model.state();
}

function summaryTable(summary: RunSummary): string {
  const rows = summary.consumers
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.consumer)}</td><td>${c.processed}</td><td>${c.filtered}</td><td>${c.quarantined}</td><td>${c.onFailure}</td><td>${c.duplicatesSkipped}</td><td>${c.missing}</td><td>${c.maxIteratorAgeMs}</td></tr>`,
    )
    .join('');
  const verdict = summary.accounted
    ? 'every produced event is accounted for by every consumer of its stream (processed, filtered, quarantined or sent to on-failure)'
    : `NOT accounted for: ${summary.missing} record deliveries were never processed`;
  return `<p>produced ${summary.produced} (${summary.producedValid} valid, ${summary.producedInvalid} invalid), ${summary.failedPuts} puts failed, in ${Math.round(summary.durationMs / 1000)} s</p>
<table><tr><th>consumer</th><th>processed</th><th>filtered</th><th>quarantined</th><th>on-failure</th><th>duplicates</th><th>missing</th><th>max iterator age ms</th></tr>${rows}</table>
<p data-accounted="${summary.accounted}">${escapeHtml(verdict)}</p>`;
}

function alarmTimeline(state: DashboardState): string {
  const lines = state.alarms.flatMap((a) =>
    a.intervals.map((i) => `<li>${escapeHtml(a.alarmName)} would have been in ALARM from ${clockTime(i.from)} to ${i.to === undefined ? 'the end of the run' : clockTime(i.to)}</li>`),
  );
  return `<h2>Alarm timeline (${escapeHtml(state.meta.timeScaleNote)})</h2>${lines.length > 0 ? `<ul class="timeline">${lines.join('')}</ul>` : '<p>no alarm would have gone to ALARM</p>'}`;
}

/** The report's HTML. The accounting summary is there once the run has stopped (runner.json `summary`). */
export async function renderReport(dataDir: string): Promise<string> {
  const state = await replayRun(dataDir);
  const runner = await readFile(join(dataDir, 'runner.json'), 'utf8').then(
    (text) => JSON.parse(text) as { summary?: RunSummary; state?: string },
    () => undefined,
  );
  const accounting = runner?.summary
    ? summaryTable(runner.summary)
    : `<p>no accounting summary: the run ${runner?.state === 'running' ? 'is still running' : 'did not finish'} (runner.json has none)</p>`;
  return renderPage({ mode: 'report', state, extras: { summaryHtml: `${alarmTimeline(state)}<h2>Accounting</h2>${accounting}` } });
}
