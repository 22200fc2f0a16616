/**
 * Structural comparison of a dashboard screenshot (not pixel-exact: data differ run to run): the
 * page's layout (where the widgets sit, in which order, how large) against a committed baseline, and
 * in the screenshot itself that each widget is a white panel with drawn series inside and that the
 * alarm list shows a red ALARM badge when one fired.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

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
declare const window: { scrollX: number; scrollY: number; innerWidth: number };

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PageLayout {
  viewportWidth: number;
  widgets: { title: string; box: Box }[];
  alarms: Box;
}

/** Series colours of the page (local/dashboard/page/dashboard.js COLORS, the first four). */
const SERIES_COLOURS: [number, number, number][] = [
  [0x1f, 0x77, 0xb4],
  [0xff, 0x7f, 0x0e],
  [0x2c, 0xa0, 0x2c],
  [0xd6, 0x27, 0x28],
];
const ALARM_RED: [number, number, number] = [0xc6, 0x28, 0x28];

export async function pageLayout(page: Page): Promise<PageLayout> {
  return page.evaluate(() => {
    const box = (el: BrowserElement) => {
      const r = el.getBoundingClientRect();
      return { x: Math.round(r.x + window.scrollX), y: Math.round(r.y + window.scrollY), width: Math.round(r.width), height: Math.round(r.height) };
    };
    return {
      viewportWidth: window.innerWidth,
      widgets: [...document.querySelectorAll('.widget')].map((el) => ({ title: el.getAttribute('data-widget') ?? '', box: box(el) })),
      alarms: box(document.querySelector('section.alarms')!),
    };
  });
}

function near(pixel: [number, number, number], colour: [number, number, number], tolerance = 40): boolean {
  return Math.abs(pixel[0] - colour[0]) + Math.abs(pixel[1] - colour[1]) + Math.abs(pixel[2] - colour[2]) <= tolerance;
}

/** Counts pixels of a box matching a predicate. */
function count(png: PNG, box: Box, match: (pixel: [number, number, number]) => boolean): { matching: number; total: number } {
  let matching = 0;
  let total = 0;
  for (let y = Math.max(0, box.y); y < Math.min(png.height, box.y + box.height); y += 1) {
    for (let x = Math.max(0, box.x); x < Math.min(png.width, box.x + box.width); x += 1) {
      const i = (y * png.width + x) * 4;
      total += 1;
      if (match([png.data[i]!, png.data[i + 1]!, png.data[i + 2]!])) matching += 1;
    }
  }
  return { matching, total };
}

export interface ScreenshotStructure {
  /** Per widget: the share of white panel pixels and the pixels drawn in series colours. */
  widgets: { title: string; panelShare: number; seriesPixels: number }[];
  alarmRedPixels: number;
}

export function screenshotStructure(png: Buffer, layout: PageLayout): ScreenshotStructure {
  const image = PNG.sync.read(png);
  return {
    widgets: layout.widgets.map(({ title, box }) => ({
      title,
      panelShare: count(image, box, (p) => p[0] > 245 && p[1] > 245 && p[2] > 245).matching / Math.max(1, box.width * box.height),
      seriesPixels: count(image, box, (p) => SERIES_COLOURS.some((c) => near(p, c))).matching,
    })),
    alarmRedPixels: count(image, layout.alarms, (p) => near(p, ALARM_RED, 30)).matching,
  };
}

/**
 * The layout against the baseline (UPDATE_DASHBOARD_BASELINE=1 rewrites it): same widgets in the
 * same order, two columns at the same x, the same widths and heights (a few pixels of tolerance for
 * font differences); the alarm list is above the widgets.
 */
export function expectLayoutLike(layout: PageLayout, baselineFile: string): void {
  const normalised = {
    viewportWidth: layout.viewportWidth,
    widgets: layout.widgets.map((w) => ({ title: w.title, x: w.box.x, width: w.box.width, height: w.box.height })),
  };
  if (process.env['UPDATE_DASHBOARD_BASELINE'] === '1') writeFileSync(baselineFile, `${JSON.stringify(normalised, null, 1)}\n`);
  const baseline = JSON.parse(readFileSync(baselineFile, 'utf8')) as typeof normalised;
  expect(normalised.viewportWidth).toBe(baseline.viewportWidth);
  expect(normalised.widgets.map((w) => w.title)).toEqual(baseline.widgets.map((w) => w.title));
  normalised.widgets.forEach((w, i) => {
    const b = baseline.widgets[i]!;
    expect(Math.abs(w.x - b.x), `${w.title} x`).toBeLessThanOrEqual(4);
    expect(Math.abs(w.width - b.width), `${w.title} width`).toBeLessThanOrEqual(4);
    // A SEARCH widget (business metrics) grows with the metrics the run published: no height to compare.
    if (!w.title.startsWith('Business metrics')) expect(Math.abs(w.height - b.height), `${w.title} height`).toBeLessThanOrEqual(40);
  });
  for (const w of layout.widgets) expect(w.box.y, `${w.title} below the alarm list`).toBeGreaterThan(layout.alarms.y + layout.alarms.height - 1);
}
