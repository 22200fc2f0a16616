/**
 * The alarm states in the terminal: a few lines for the live view and the summary's "would have
 * been in ALARM from .. to .." (ANSI colours as in ../live-view.ts; `plain()` strips them).
 */
import type { AlarmStatus } from './dashboard-model';

const ESC = '\x1b[';
const bold = (text: string) => `${ESC}1m${text}${ESC}22m`;
const dim = (text: string) => `${ESC}2m${text}${ESC}22m`;
const red = (text: string) => `${ESC}31m${text}${ESC}39m`;
const green = (text: string) => `${ESC}32m${text}${ESC}39m`;

/** HH:MM:SS in this machine's time zone. */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export interface AlarmLinesContext {
  stage: string;
  timeScale: number;
  url?: string | undefined;
}

function scale(context: AlarmLinesContext): string {
  return context.timeScale === 1 ? 'periods as deployed' : `time scale ${context.timeScale}: periods ${context.timeScale}x shorter`;
}

/** Lines for the live view: where the page is, and which alarms are in ALARM now. */
export function alarmViewLines(alarms: readonly AlarmStatus[], context: AlarmLinesContext): string[] {
  const lines: string[] = [];
  if (context.url) lines.push(`${bold('DASHBOARD')} ${context.url}`);
  const firing = alarms.filter((a) => a.state === 'ALARM');
  const evaluated = alarms.filter((a) => a.state !== 'NOT_EVALUATED').length;
  const header = `${bold('ALARMS')} of stage ${context.stage} (${scale(context)}): `;
  if (firing.length === 0) lines.push(`${header}${green(`none in ALARM`)} ${dim(`(${evaluated} evaluated)`)}`);
  else {
    lines.push(`${header}${red(`${firing.length} in ALARM`)}`);
    for (const alarm of firing.slice(0, 6)) lines.push(red(`  ${alarm.alarmName} since ${clockTime(alarm.intervals[alarm.intervals.length - 1]?.from ?? Date.now())}`));
    if (firing.length > 6) lines.push(red(`  and ${firing.length - 6} more (see the dashboard)`));
  }
  return lines;
}

/** The summary's alarm section: every interval in ALARM, or that none fired. */
export function alarmSummaryLines(alarms: readonly AlarmStatus[], context: AlarmLinesContext): string[] {
  const lines = [bold(`Alarms of stage ${context.stage} over this run (${scale(context)})`)];
  const fired = alarms.filter((a) => a.intervals.length > 0);
  for (const alarm of fired) {
    for (const interval of alarm.intervals) {
      const to = interval.to === undefined ? 'the end of the run' : clockTime(interval.to);
      lines.push(red(`  ${alarm.alarmName} would have been in ALARM from ${clockTime(interval.from)} to ${to}`));
    }
  }
  if (fired.length === 0) lines.push(green(`  no alarm would have gone to ALARM (${alarms.filter((a) => a.state !== 'NOT_EVALUATED').length} evaluated)`));
  const skipped = alarms.filter((a) => a.state === 'NOT_EVALUATED');
  if (skipped.length > 0) lines.push(dim(`  not evaluated locally (metric math): ${skipped.map((a) => a.alarmName).join(', ')}`));
  return lines;
}
