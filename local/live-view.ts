/**
 * The live terminal view of `npm start`: plain ANSI, readable at 80 columns, redrawn in place.
 * Pure rendering (snapshot -> lines) is separate from the terminal handling so tests can read it.
 */
import type { RunSummary, RunnerSnapshot } from './pipeline-runner';

const ESC = '\x1b[';
const bold = (text: string) => `${ESC}1m${text}${ESC}22m`;
const dim = (text: string) => `${ESC}2m${text}${ESC}22m`;
const red = (text: string) => `${ESC}31m${text}${ESC}39m`;
const green = (text: string) => `${ESC}32m${text}${ESC}39m`;
const yellow = (text: string) => `${ESC}33m${text}${ESC}39m`;

/** Strips ANSI sequences (for width checks and plain output). */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

function num(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 10_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (Math.abs(value) >= 100_000) return `${Math.round(value / 1000)}k`;
  return String(Math.round(value));
}

function rate(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}`;
}

type MoneyStyle = 'exact' | 'whole' | 'compact';

/** Minor units -> major for display (ISO 4217 exponents of the fixture currencies: JPY 0, others 2). */
function money(currency: string, minor: number, style: MoneyStyle = 'exact'): string {
  const exponent = currency === 'JPY' ? 0 : 2;
  const major = minor / 10 ** exponent;
  if (style === 'compact' && Math.abs(major) >= 1000) {
    const [value, suffix] = Math.abs(major) >= 1_000_000 ? [major / 1_000_000, 'M'] : [major / 1000, 'k'];
    return `${currency} ${value.toFixed(1)}${suffix}`;
  }
  const digits = style === 'exact' ? exponent : 0;
  return `${currency} ${major.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/**
 * `  revenue  EUR 145,491.77  GBP ...` on one line of at most `width` columns: exact amounts when
 * they fit, else whole units, else 145.5k / 19.9M; only more currencies than that wrap.
 */
export function moneyLines(label: string, split: Record<string, number>, width = 80): string[] {
  const currencies = Object.entries(split).sort(([a], [b]) => a.localeCompare(b));
  let parts: string[] = [];
  for (const style of ['exact', 'whole', 'compact'] as const) {
    parts = currencies.map(([currency, minor]) => money(currency, minor, style));
    const line = `  ${label}  ${parts.join('  ')}`;
    if (line.length <= width) return [line];
  }
  const lines: string[] = [];
  let line = `  ${label}`;
  for (const part of parts) {
    if (line.length + part.length + 2 > width) {
      lines.push(line);
      line = ' '.repeat(label.length + 2);
    }
    line += `  ${part}`;
  }
  lines.push(line);
  return lines;
}

const STATE_LABEL: Record<RunnerSnapshot['state'], string> = {
  starting: yellow('starting'),
  running: green('running'),
  draining: yellow('draining (Ctrl-C again to force)'),
  stopped: 'stopped',
};

export function renderView(view: RunnerSnapshot): string[] {
  const lines: string[] = [];
  lines.push(`${bold(`${view.pipeline} pipeline`)}  ${STATE_LABEL[view.state]}  up ${duration(view.uptimeMs)}  seed ${view.seed}`);
  lines.push(dim(fit(`kinesis ${view.kinesisEngine} ${view.kinesisEndpoint}  lambda ${view.lambdaEndpoint}`, 80)));
  lines.push(dim(fit(`data ${view.dataDir}`, 80)));
  lines.push('');
  lines.push(bold(`${fit('STREAM', 24)}${fit('SHARDS', 8, 'right')}${fit('PUT/S', 9, 'right')}${fit('RECORDS', 11, 'right')}${fit('INVALID', 10, 'right')}${fit('PUT FAIL', 10, 'right')}`));
  for (const s of view.streams) {
    lines.push(
      `${fit(s.name, 24)}${fit(String(s.shards), 8, 'right')}${fit(rate(s.putRate), 9, 'right')}${fit(num(s.records), 11, 'right')}${fit(num(s.invalid), 10, 'right')}${fit(num(s.failedPuts), 10, 'right')}`,
    );
  }
  lines.push('');
  // 14 + 8 + 7 + 8 + 5 + 6 + 6 + 6 + 6 + 5 + 7 = 78 columns <= 80.
  lines.push(
    bold(
      `${fit('CONSUMER', 14)}${fit('BATCH/S', 8, 'right')}${fit('REC/S', 7, 'right')}${fit('AGE ms', 8, 'right')}${fit('INFL', 5, 'right')}${fit('RETRY', 6, 'right')}${fit('FILT', 6, 'right')}${fit('QUAR', 6, 'right')}${fit('FAIL', 6, 'right')}${fit('DUPS', 5, 'right')}${fit('BEHIND', 7, 'right')}`,
    ),
  );
  for (const c of view.consumers) {
    const behind = c.missing > 0 ? yellow(fit(num(c.missing), 7, 'right')) : fit('0', 7, 'right');
    const fail = c.onFailure > 0 ? red(fit(num(c.onFailure), 6, 'right')) : fit('0', 6, 'right');
    lines.push(
      `${fit(c.name, 14)}${fit(rate(c.batchesPerSecond), 8, 'right')}${fit(rate(c.recordsPerSecond), 7, 'right')}${fit(num(c.iteratorAgeMs), 8, 'right')}${fit(String(c.inFlight), 5, 'right')}${fit(num(c.retries), 6, 'right')}${fit(num(c.filtered), 6, 'right')}${fit(num(c.quarantined), 6, 'right')}${fail}${fit(num(c.duplicatesSkipped), 5, 'right')}${behind}`,
    );
  }
  lines.push(dim('AGE: iterator age of the last batch; BEHIND: produced, not yet checkpointed'));
  lines.push(dim('FILT: dropped by its filter; INVALID events end in QUAR, or FILT if filtered'));
  for (const c of view.consumers) {
    if (c.checkpointsUnsaved) lines.push(red(fit(`${c.name}: checkpoints not stored since ${c.checkpointsUnsaved.since.slice(11, 19)}: ${c.checkpointsUnsaved.lastError}`, 80)));
  }
  lines.push('');
  lines.push(bold(`${fit('FUNCTION', 24)}${fit('INVOKES', 9, 'right')}${fit('ERRORS', 8, 'right')}${fit('TIMEOUT', 9, 'right')}${fit('CRASH', 7, 'right')}${fit('ASYNC Q', 9, 'right')}${fit('SANDBOX', 9, 'right')}`));
  for (const f of view.functions) {
    lines.push(
      `${fit(f.name, 24)}${fit(num(f.invocations), 9, 'right')}${fit(num(f.errors), 8, 'right')}${fit(num(f.timeouts), 9, 'right')}${fit(num(f.crashes), 7, 'right')}${fit(num(f.asyncPending), 9, 'right')}${fit(num(f.sandboxes), 9, 'right')}`,
    );
  }
  for (const b of view.business) {
    lines.push('');
    lines.push(bold(fit(`BUSINESS ${b.namespace} (published windows of this run)`, 80)));
    if (b.datapoints === 0) {
      lines.push(dim('  no window published yet (order-metrics publishes when a window closes)'));
      continue;
    }
    const t = b.totals;
    lines.push(
      fit(
        `  placed ${num(t['OrdersPlaced'] ?? 0)}  paid ${num(t['OrdersPaid'] ?? 0)}  shipped ${num(t['OrdersShipped'] ?? 0)}  cancelled ${num(t['OrdersCancelled'] ?? 0)}`,
        80,
      ),
    );
    for (const [metric, split] of Object.entries(b.byCurrency)) {
      lines.push(...moneyLines(metric === 'RevenueMinor' ? 'revenue' : metric, split));
    }
  }
  lines.push('');
  lines.push(dim(view.state === 'running' ? 'Ctrl-C: stop producing, drain, summarise' : ''));
  return lines;
}

export function renderSummary(summary: RunSummary): string[] {
  const lines: string[] = [];
  lines.push(bold('Summary'));
  lines.push(
    `  produced ${summary.produced} (${summary.producedValid} valid, ${summary.producedInvalid} invalid)${summary.failedPuts > 0 ? red(`, ${summary.failedPuts} puts failed`) : ''} in ${duration(summary.durationMs)}, seed ${summary.seed}`,
  );
  lines.push(bold(`  ${fit('consumer', 15)}${fit('processed', 10, 'right')}${fit('filtered', 9, 'right')}${fit('quarant.', 9, 'right')}${fit('on-fail', 8, 'right')}${fit('dups', 6, 'right')}${fit('missing', 8, 'right')}${fit('max age ms', 11, 'right')}`));
  for (const c of summary.consumers) {
    lines.push(
      `  ${fit(c.consumer, 15)}${fit(String(c.processed), 10, 'right')}${fit(String(c.filtered), 9, 'right')}${fit(String(c.quarantined), 9, 'right')}${fit(String(c.onFailure), 8, 'right')}${fit(String(c.duplicatesSkipped), 6, 'right')}${fit(String(c.missing), 8, 'right')}${fit(String(c.maxIteratorAgeMs), 11, 'right')}`,
    );
    const notes: string[] = [];
    if (c.validQuarantined > 0) notes.push(`${c.validQuarantined} valid events quarantined`);
    if (c.invalidProcessed > 0) notes.push(`${c.invalidProcessed} invalid events processed`);
    if (c.redeliveredAfterCheckpoint > 0) notes.push(`${c.redeliveredAfterCheckpoint} records redelivered after checkpoint`);
    if (c.backlogAtStart > 0) notes.push(`${c.backlogCheckpointed} of ${c.backlogAtStart} records left unprocessed by earlier runs caught up`);
    if (c.foreignBeforeRun > 0) notes.push(`${c.foreignBeforeRun} records from before this run`);
    if (c.foreignDuringRun > 0) notes.push(`${c.foreignDuringRun} records written during the run outside the upstream's acknowledged puts (ambiguous-put retries, re-puts)`);
    if (c.reportedProcessed !== c.processed && c.foreign === 0) notes.push(`the consumer reported ${c.reportedProcessed} processed (EMF)`);
    if (notes.length > 0) lines.push(yellow(`    ${notes.join('; ')}`));
  }
  lines.push(`  totals: processed ${summary.processed}, quarantined ${summary.quarantined}, on-failure ${summary.onFailure},`);
  lines.push(`          duplicates skipped ${summary.duplicatesSkipped}, max iterator age ${summary.maxIteratorAgeMs} ms`);
  lines.push(
    summary.accounted
      ? green('  every produced event is accounted for by every consumer of its stream')
      : red(
          `  NOT accounted for: ${summary.missing} record deliveries were never processed` +
            (summary.backlogCheckpointed < summary.backlogAtStart ? `, ${summary.backlogAtStart - summary.backlogCheckpointed} records of earlier runs not caught up` : ''),
        ),
  );
  lines.push(
    summary.accounted
      ? dim('  (processed, filtered, quarantined or sent to on-failure)')
      : dim('  see logs/runner.log and the consumers\' logs in the data folder'),
  );
  lines.push(...renderHealth(summary.health));
  return lines;
}

/** Functions (invocations, errors, timeouts, crashes, idle deaths), then what failed the run and what it recovered from. */
export function renderHealth(health: RunSummary['health']): string[] {
  const lines: string[] = [];
  lines.push(bold(`  ${fit('function', 15)}${fit('invokes', 10, 'right')}${fit('errors', 8, 'right')}${fit('timeouts', 9, 'right')}${fit('crashes', 8, 'right')}${fit('idle died', 10, 'right')}`));
  for (const f of health.functions) {
    const row = `  ${fit(f.name, 15)}${fit(String(f.invocations), 10, 'right')}${fit(String(f.errors), 8, 'right')}${fit(String(f.timeouts), 9, 'right')}${fit(String(f.crashes), 8, 'right')}${fit(String(f.idleDeaths), 10, 'right')}`;
    lines.push(f.timeouts + f.crashes + f.idleDeaths > 0 ? yellow(row) : row);
  }
  for (const warning of health.warnings) lines.push(yellow(`  ${warning}`));
  for (const problem of health.problems) lines.push(red(`  ${problem}`));
  return lines;
}

/** Redraws the view in place: cursor home, each line cleared to its end, the rest of the screen cleared. */
export class TerminalView {
  private first = true;

  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: readonly string[]): void {
    const prefix = this.first ? `${ESC}?25l${ESC}2J${ESC}H` : `${ESC}H`;
    this.first = false;
    this.out.write(`${prefix}${lines.map((line) => `${line}${ESC}K`).join('\n')}\n${ESC}J`);
  }

  /** Leave the last frame on screen, show the cursor again. */
  close(): void {
    this.out.write(`${ESC}?25h`);
  }
}
