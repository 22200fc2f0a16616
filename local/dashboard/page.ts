/**
 * The dashboard page: one HTML shell for the live page (assets served by the dashboard server) and
 * the self-contained report (uPlot, the page script and the state inlined: it opens offline, from
 * a ticket attachment). uPlot ships with the project (npm `uplot`): nothing is fetched from the network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DashboardState } from './dashboard-model';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The files the page loads, by the name it asks for under /assets/. */
export function pageAssets(): Record<string, { path: string; type: string }> {
  const uplotDist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    'uPlot.iife.min.js': { path: join(uplotDist, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    'uPlot.min.css': { path: join(uplotDist, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
    'dashboard.js': { path: join(HERE, 'page', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
    'dashboard.css': { path: join(HERE, 'page', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  };
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON inside <script>: `</script>` or `<!--` in a label must not end the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export interface ReportExtras {
  /** Rows of the accounting summary (consumer, processed, ...) shown under the charts. */
  summaryHtml?: string;
}

export function renderPage(options: { mode: 'live' } | { mode: 'report'; state: DashboardState; extras?: ReportExtras }): string {
  const assets = pageAssets();
  const inline = (name: string) => readFileSync(assets[name]!.path, 'utf8');
  const head =
    options.mode === 'live'
      ? '<link rel="stylesheet" href="/assets/uPlot.min.css"><link rel="stylesheet" href="/assets/dashboard.css">'
      : `<style>${inline('uPlot.min.css')}</style><style>${inline('dashboard.css')}</style>`;
  const scripts =
    options.mode === 'live'
      ? '<script src="/assets/uPlot.iife.min.js"></script><script src="/assets/dashboard.js"></script>'
      : `<script id="dashboard-data" type="application/json">${scriptJson(options.state)}</script><script>${inline('uPlot.iife.min.js').replace(/<\/script/gi, '<\\/script')}</script><script>${inline('dashboard.js')}</script>`;
  const title = options.mode === 'report' ? `${escapeHtml(options.state.meta.pipeline)} pipeline: local run report` : 'local pipeline dashboard';
  const summary = options.mode === 'report' && options.extras?.summaryHtml ? `<section class="summary"><h2>Accounting summary</h2>${options.extras.summaryHtml}</section>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>${head}</head>
<body>
<header><h1 id="title">${title}</h1><div class="meta" id="meta"></div><div class="scale" id="scale"></div></header>
<main>
<section class="alarms"><h2>Alarms <span class="stat" id="alarm-count"></span></h2><ul class="alarm-list" id="alarm-list"></ul></section>
<div class="grid" id="grid"></div>
${summary}
</main>
${scripts}
</body></html>
`;
}
