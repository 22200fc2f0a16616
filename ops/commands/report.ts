/** `ops report --local`: the local run's dashboard, alarm timeline and accounting as one HTML file. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { renderReport } from '../../local/dashboard/report';
import { dashboardDir, NoDashboardDataError } from '../../local/dashboard/series-files';
import { defaultDataDir } from '../context';
import { UsageError } from '../io';
import { defineCommand } from './command';

const OPTIONS = { out: { type: 'string', short: 'o' } } as const;

export const reportCommand = defineCommand({
  name: 'report',
  summary: "write the local run's dashboard, alarm timeline and accounting as one HTML file",
  help: `Usage: ops report --local [--out FILE]

Writes a self-contained HTML report of the last local run (npm start): the dashboard's charts, the
stage's alarms with when each would have been in ALARM, and the accounting summary. Everything is
inlined (no network needed to open it), so it can be attached to a ticket.

Options:
  -o, --out FILE   where to write it (default: <data-dir>/dashboard/report.html)

Examples:
  npm run ops -- report --local
  npm run ops -- report --local --data-dir /tmp/run1 --out run1.html`,
  options: OPTIONS,
  async run({ values, positionals }, env) {
    if (positionals.length > 0) throw new UsageError(`report takes no positional arguments, got "${positionals.join(' ')}"`);
    if (!values.local) {
      throw new UsageError('report needs --local: it reports a local run from its data folder; a deployed stage has its CloudWatch dashboard (the stack output dashboard-url)');
    }
    const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
    const out = resolve(values.out ?? join(dashboardDir(dataDir), 'report.html'));
    let html: string;
    try {
      html = await renderReport(dataDir);
    } catch (error) {
      if (error instanceof NoDashboardDataError) {
        env.io.err(error.message);
        return 1;
      }
      throw error;
    }
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, html);
    env.io.out(out);
    return 0;
  },
});
