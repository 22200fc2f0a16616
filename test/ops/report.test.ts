/**
 * `ops report --local`: a self-contained HTML report of a local run from its data folder (the
 * dashboard series, the alarm timeline, the accounting summary of runner.json), and clear answers
 * to bad usage or a data folder without a run.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployedDefinitions } from '../../local/dashboard/deployed-definitions';
import { SeriesFiles } from '../../local/dashboard/series-files';
import { runCli } from '../../ops/cli';
import { captureIo } from './helpers';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const metric = { namespace: 'KinesisPipeline/Consumers', metricName: 'RecordsQuarantined', dimensions: { ConsumerName: 'order-review' } };
const definitions: DeployedDefinitions = {
  stage: 'dev',
  region: 'eu-west-1',
  names: { stage: 'dev', streams: {}, functions: {}, consumerQueues: {}, functionQueues: {} },
  widgets: [{ title: 'Consumer runtime: records', period: 60, metrics: [{ ...metric, stat: 'Sum', label: 'order-review RecordsQuarantined' }] }],
  alarms: [
    {
      alarmName: 'orders-dev-order-review-records-quarantined',
      description: 'quarantined',
      metric: { ...metric, stat: 'Sum' },
      period: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
    },
  ],
};

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ops-report-'));
  const files = new SeriesFiles(dataDir);
  await files.begin({ pipeline: 'orders', startedAt: T0, timeScale: 60, tickMs: 1000, definitions });
  files.addTick(T0 + 500, [{ ...metric, t: T0 + 500, v: 0 }]);
  files.addTick(T0 + 1500, [{ ...metric, t: T0 + 1500, v: 3 }]);
  files.addTick(T0 + 2500, [{ ...metric, t: T0 + 2500, v: 0 }]);
  await files.flush();
  const summary = { durationMs: 3000, produced: 10, producedValid: 7, producedInvalid: 3, failedPuts: 0, processed: 7, quarantined: 3, filtered: 0, onFailure: 0, duplicatesSkipped: 0, missing: 0, maxIteratorAgeMs: 5, accounted: true,
    consumers: [{ consumer: 'order-review', processed: 7, filtered: 0, quarantined: 3, onFailure: 0, duplicatesSkipped: 0, missing: 0, maxIteratorAgeMs: 5 }] };
  await writeFile(join(dataDir, 'runner.json'), JSON.stringify({ state: 'stopped', summary }));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('ops report --local', () => {
  it('writes one self-contained HTML file with the charts, the alarm timeline and the accounting', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['report', '--local', '--data-dir', dataDir], { io })).toBe(0);
    expect(out).toEqual([join(dataDir, 'dashboard', 'report.html')]);
    const html = await readFile(out[0]!, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="\//);
    expect(html).toContain('uPlot');
    const data = JSON.parse(/<script id="dashboard-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!) as { alarms: { intervals: unknown[] }[]; t: number[] };
    expect(data.t).toEqual([T0 + 500, T0 + 1500, T0 + 2500]);
    // ALARM from the end of the breaching period; OK at the evaluation of the last, partial period (the run's end).
    expect(data.alarms[0]!.intervals).toEqual([{ from: T0 + 2000, to: T0 + 2500 }]);
    expect(html).toMatch(/orders-dev-order-review-records-quarantined would have been in ALARM from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d/);
    expect(html).toContain('every produced event is accounted for');
  });

  it('--out chooses the file', async () => {
    const { io, out } = captureIo();
    const file = join(dataDir, 'elsewhere', 'run.html');
    expect(await runCli(['report', '--local', '--data-dir', dataDir, '--out', file], { io })).toBe(0);
    expect(out).toEqual([file]);
    expect(await readFile(file, 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('without --local: a usage error saying what it reports and where a stage has its dashboard', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['report'], { io })).toBe(2);
    expect(err.join('\n')).toMatch(/report needs --local: .*CloudWatch dashboard/);
  });

  it('a data folder without a dashboard run: exit 1 and the fix, no stack trace', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'ops-report-empty-'));
    const { io, err } = captureIo();
    expect(await runCli(['report', '--local', '--data-dir', empty], { io })).toBe(1);
    expect(err.join('\n')).toMatch(/^no dashboard series in .*: run `npm start` \(without --no-dashboard\) first/);
    expect(err.join('\n')).not.toMatch(/\n\s+at /);
    await rm(empty, { recursive: true, force: true });
  });
});
