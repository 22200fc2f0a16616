/**
 * The local dashboard in a real browser (Debian's chromium driven by playwright-core) over a real
 * local run of the project's pipeline, with the dev stage's alarms at time scale 150 (300 s periods
 * last 2 s): the page loads without console errors, live points arrive, a clean phase (valid events
 * only) puts no alarm in ALARM, then one poison record (scheduled: an order.placed whose total does
 * not match its lines) fires the records-quarantined and quarantine-depth alarms, on the page, in
 * the summary lines and in the HTML report; the screenshot is compared structurally.
 * Every wait is for a condition on the page or the pipeline, never a fixed sleep.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDir } from '../../local/data-dir';
import { LocalDashboard } from '../../local/dashboard/local-dashboard';
import { renderReport } from '../../local/dashboard/report';
import { plain } from '../../local/live-view';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline-runner';
import type { RunnerStateFile } from '../../local/runner-state-file';
import { pipeline as definition } from '../../pipeline/pipeline';
import { createFixtures } from '../../schemas/fixtures';
import { expectLayoutLike, pageLayout, screenshotStructure } from './page-structure';

// Browser globals of the functions that run in the page (the project's tsconfig has no DOM lib).
interface BrowserElement {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { x: number; y: number; width: number; height: number };
}
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  querySelector(selector: string): BrowserElement | null;
  querySelectorAll(selector: string): Iterable<BrowserElement>;
};

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  // Printed, never counted as a pass: .ci/run installs chromium with apt-get.
  console.warn(`SKIPPED dashboard browser tests: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

const ROOT = resolve(import.meta.dirname, '../..');
const BASELINE = join(import.meta.dirname, 'fixtures', 'dashboard-layout.json');
const VALID_EVENTS = 40;
const WAIT = 90_000;
const QUARANTINED = 'orders-dev-order-metrics-records-quarantined';
const DEPTH = 'orders-dev-order-metrics-quarantine-depth';

let dataRoot: string;
let dashboard: LocalDashboard;
let pipeline: LocalPipeline;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** Polls `done` (a condition on the pipeline) until true. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const emf = (fn: string, metric: string) => pipeline.lambda.stats()[fn]?.metrics[metric] ?? 0;
const attr = (selector: string, name: string) => page.locator(selector).first().getAttribute(name);

describe.skipIf(!available)('local dashboard in chromium over a local run (dev alarms, time scale 150)', () => {
  beforeAll(async () => {
    dataRoot = await mkdtemp(join(tmpdir(), 'dashboard-browser-'));
    dashboard = await LocalDashboard.start({ definition, dataDir: new DataDir(dataRoot), stagesDir: join(ROOT, 'stages'), stage: 'dev', timeScale: 150 });
    pipeline = await startLocalPipeline({
      dataDir: dataRoot,
      rate: 0,
      dashboardUrl: dashboard.url!,
      // A busy machine must not turn a slow cold start into Errors (and an errors alarm).
      lambdaInitTimeoutMs: 120_000,
    });
    await dashboard.attach(pipeline);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop({ drainTimeoutMs: 60_000 });
    await dashboard?.close();
    if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
  }, 120_000);

  it('runner.json records the dashboard address', async () => {
    const state = JSON.parse(await readFile(join(dataRoot, 'runner.json'), 'utf8')) as RunnerStateFile;
    expect(state.dashboard?.url).toBe(dashboard.url);
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('loads with the stage widgets and alarms and no console errors; the time scale is stated', async () => {
    await page.goto(dashboard.url!);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('.widget').count()).toBe(dashboard.definitions.widgets.length);
    expect(await page.locator('li[data-alarm]').count()).toBe(dashboard.definitions.alarms.length);
    expect(await page.textContent('#scale')).toContain('time scale 150');
    expect(consoleErrors).toEqual([]);
  });

  it('clean phase: live points arrive and no alarm goes to ALARM', async () => {
    const fixtures = createFixtures({ seed: 18, startTime: Date.now() });
    const events = Array.from({ length: VALID_EVENTS }, () => fixtures.next());
    const ticksBefore = Number(await attr('body', 'data-ticks'));
    await pipeline.kinesis.send(
      new PutRecordsCommand({
        StreamName: 'orders',
        Records: events.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.data.orderId })),
      }),
    );
    await until(() => emf('order-metrics', 'RecordsProcessed') >= VALID_EVENTS, 'order-metrics to process the valid events');
    // Points arrive live: more ticks, and the records the stream received are on the throughput chart.
    await page.waitForFunction((n) => Number(document.body.dataset['ticks']) > n + 2, ticksBefore, { timeout: WAIT });
    await page.waitForFunction(() => Number(document.querySelector('[data-widget="Stream throughput (records)"]')?.getAttribute('data-points')) > 0, null, { timeout: WAIT });
    // Let every alarm evaluate at least three more periods after the processing, then: nothing fired.
    const evaluations = () =>
      page.$$eval('li[data-alarm]:not([data-state="NOT_EVALUATED"])', (items) => Math.min(...items.map((i) => Number(i.getAttribute('data-evaluations')))));
    const now = await evaluations();
    await page.waitForFunction(
      (target) => [...document.querySelectorAll('li[data-alarm]:not([data-state="NOT_EVALUATED"])')].every((i) => Number(i.getAttribute('data-evaluations')) >= target),
      now + 3,
      { timeout: WAIT },
    );
    expect(await attr('body', 'data-alarms-ever-in-alarm')).toBe('0');
    expect(await page.locator('li[data-state="ALARM"]').count()).toBe(0);
    expect(dashboard.alarms().filter((a) => a.intervals.length > 0)).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('a poison record fires the quarantine alarms on the page', async () => {
    const fixtures = createFixtures({ seed: 99, startTime: Date.now() });
    const poison = fixtures.orderPlaced();
    poison.data.totalMinor += 1; // the contract requires total = sum of the lines
    const quarantinedBefore = emf('order-metrics', 'RecordsQuarantined');
    await pipeline.kinesis.send(new PutRecordCommand({ StreamName: 'orders', Data: Buffer.from(JSON.stringify(poison)), PartitionKey: poison.data.orderId }));
    await until(() => emf('order-metrics', 'RecordsQuarantined') > quarantinedBefore, 'order-metrics to quarantine the poison record');
    await page.waitForSelector(`li[data-alarm="${QUARANTINED}"]:not([data-intervals="0"])`, { timeout: WAIT });
    await page.waitForSelector(`li[data-alarm="${DEPTH}"][data-state="ALARM"]`, { timeout: WAIT });
    expect(await page.locator(`li[data-alarm="${QUARANTINED}"] .alarm-history`).textContent()).toMatch(/^in ALARM from \d\d:\d\d:\d\d to /);
    expect(Number(await attr('body', 'data-alarms-ever-in-alarm'))).toBeGreaterThanOrEqual(2);
    const view = dashboard.viewLines().map(plain);
    expect(view[0]).toBe(`DASHBOARD ${dashboard.url}`);
    expect(view.join('\n')).toContain(DEPTH);
    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('the screenshot has the committed layout, drawn series in every chart with data and a red ALARM badge', async () => {
    const layout = await pageLayout(page);
    const png = await page.screenshot({ fullPage: true });
    expectLayoutLike(layout, BASELINE);
    const structure = screenshotStructure(png, layout);
    for (const widget of structure.widgets) expect(widget.panelShare, `${widget.title} is a white panel`).toBeGreaterThan(0.6);
    for (const title of ['Stream throughput (records)', 'Consumer runtime: records', 'Quarantine and on-failure depth']) {
      expect(structure.widgets.find((w) => w.title === title)!.seriesPixels, `${title} has drawn series`).toBeGreaterThan(30);
    }
    expect(structure.alarmRedPixels).toBeGreaterThan(100);
  });

  it('the summary says when each alarm would have been in ALARM, and the HTML report shows the same offline', async () => {
    await pipeline.stop({ drainTimeoutMs: 60_000 });
    await dashboard.finish();
    await page.waitForSelector('body[data-ended="true"]', { timeout: WAIT });
    const summary = dashboard.summaryLines().map(plain);
    expect(summary.join('\n')).toMatch(new RegExp(`${QUARANTINED} would have been in ALARM from \\d\\d:\\d\\d:\\d\\d to `));
    expect(summary.join('\n')).not.toContain('no alarm would have gone to ALARM');

    const html = await renderReport(dataRoot);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="\//); // self-contained
    const file = join(dataRoot, 'report.html');
    await writeFile(file, html);
    const report = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    report.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    report.on('pageerror', (e) => errors.push(e.message));
    // Offline: any request beyond the file itself fails the test.
    await report.route(/^(?!file:)/, (route) => {
      errors.push(`network request ${route.request().url()}`);
      return route.abort();
    });
    await report.goto(`file://${file}`);
    await report.waitForSelector('body[data-ready="true"]');
    expect(await report.locator(`li[data-alarm="${QUARANTINED}"]`).getAttribute('data-intervals')).not.toBe('0');
    expect(await report.textContent('section.summary')).toContain(`${QUARANTINED} would have been in ALARM from`);
    expect(await report.locator('[data-accounted]').count()).toBe(1);
    expect(errors).toEqual([]);
    await report.close();
  }, 180_000);
});
