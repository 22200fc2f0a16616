// The local dashboard page (browser script, no build step): draws the stage's widgets with uPlot
// and the alarm states. Live: a full state from /api/events (server-sent events), then one tick a
// second. Report: the state embedded in the page (#dashboard-data), nothing fetched.
/* global uPlot */
(function () {
  'use strict';
  const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  /** @type {{meta: any, widgets: any[], t: number[], values: Record<string, (number|null)[]>, alarms: any[]}} */
  let state;
  /** @type {{plot: any, el: HTMLElement, ids: string[]}[]} */
  let charts = [];

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else node.setAttribute(k, String(v));
    }
    for (const child of children) node.append(child);
    return node;
  };
  const compact = (v) => {
    if (v === null || v === undefined) return '';
    const a = Math.abs(v);
    if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
    if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
    if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
    return String(+v.toFixed(2));
  };
  const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

  function renderHeader() {
    const m = state.meta;
    $('#title').textContent = `${m.pipeline} pipeline — local run`;
    $('#meta').textContent = `alarms and widgets of stage ${m.stage} (${m.region}) · started ${clock(m.startedAt)} · charts: one datapoint per second of the run`;
    $('#scale').textContent = m.timeScaleNote;
  }

  function alarmHistory(alarm) {
    if (alarm.intervals.length === 0) return '';
    return alarm.intervals
      .map((i) => `in ALARM from ${clock(i.from)} to ${i.to === undefined || i.to === null ? 'now' : clock(i.to)}`)
      .join('; ');
  }

  function renderAlarms() {
    const list = $('#alarm-list');
    list.replaceChildren();
    const order = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2, NOT_EVALUATED: 3 };
    const alarms = [...state.alarms].sort((a, b) => order[a.state] - order[b.state] || a.alarmName.localeCompare(b.alarmName));
    for (const alarm of alarms) {
      const detail = alarm.reason ? `${alarm.condition} · ${alarm.reason}` : `${alarm.condition} · ${alarm.evaluation}${alarm.hasLocalData ? '' : ' · no local data for this metric'}`;
      const text = el('div', { class: 'alarm-text' }, el('div', { class: 'alarm-name', title: alarm.description }, alarm.alarmName), el('div', { class: 'alarm-detail', title: detail }, detail));
      const history = alarmHistory(alarm);
      if (history) text.append(el('div', { class: 'alarm-history' }, history));
      list.append(el('li', { 'data-alarm': alarm.alarmName, 'data-state': alarm.state, 'data-evaluations': alarm.evaluations, 'data-intervals': alarm.intervals.length }, el('span', { class: `badge ${alarm.state}` }, alarm.state.replace('_', ' ')), text));
    }
    const firing = state.alarms.filter((a) => a.state === 'ALARM').length;
    const ever = state.alarms.filter((a) => a.intervals.length > 0).length;
    $('#alarm-count').textContent = `${firing} in ALARM now, ${ever} went to ALARM during the run, ${state.alarms.length} alarms`;
    document.body.dataset.alarmsInAlarm = String(firing);
    document.body.dataset.alarmsEverInAlarm = String(ever);
  }

  function chartData(widget) {
    const xs = state.t.map((t) => t / 1000);
    return [xs, ...widget.series.map((s) => state.values[s.id] || xs.map(() => null))];
  }

  function pointCount(widget) {
    let n = 0;
    for (const s of widget.series) for (const v of state.values[s.id] || []) if (v !== null) n += 1;
    return n;
  }

  function renderCharts() {
    for (const c of charts) c.plot && c.plot.destroy();
    charts = [];
    const grid = $('#grid');
    grid.replaceChildren();
    for (const widget of state.widgets) {
      const body = el('div', { class: 'chart' });
      const box = el('div', { class: 'widget', 'data-widget': widget.title, 'data-points': pointCount(widget) }, el('h2', {}, widget.title, ' ', el('span', { class: 'stat' }, widget.stat)), body);
      grid.append(box);
      if (widget.series.length === 0) {
        body.append(el('div', { class: 'empty' }, 'no data yet'));
        charts.push({ plot: undefined, el: box, ids: [] });
        continue;
      }
      const width = Math.max(300, box.clientWidth - 24);
      const plot = new uPlot(
        {
          width,
          height: 200,
          scales: { x: { time: true } },
          series: [{}, ...widget.series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false, points: { size: 4 } }))],
          axes: [{}, { size: 56, values: (_u, ticks) => ticks.map(compact) }],
          legend: { live: false },
        },
        chartData(widget),
        body,
      );
      charts.push({ plot, el: box, ids: widget.series.map((s) => s.id) });
    }
    document.body.dataset.ticks = String(state.t.length);
  }

  function updateCharts() {
    state.widgets.forEach((widget, index) => {
      const chart = charts[index];
      chart.el.dataset.points = String(pointCount(widget));
      if (chart.plot) chart.plot.setData(chartData(widget));
    });
    document.body.dataset.ticks = String(state.t.length);
  }

  function applyTick(tick) {
    state.t.push(tick.t);
    if (tick.widgets) state.widgets = tick.widgets;
    const known = new Set();
    for (const widget of state.widgets) for (const s of widget.series) known.add(s.id);
    for (const id of known) {
      const column = state.values[id] || (state.values[id] = state.t.slice(0, -1).map(() => null));
      column.push(id in tick.values ? tick.values[id] : null);
    }
    state.alarms = tick.alarms;
    renderAlarms();
    if (tick.widgets) renderCharts();
    else updateCharts();
  }

  function show(full) {
    state = full;
    renderHeader();
    renderAlarms();
    renderCharts();
    document.body.dataset.ready = 'true';
  }

  let resizing;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => state && renderCharts(), 200);
  });

  const embedded = document.getElementById('dashboard-data');
  if (embedded) {
    show(JSON.parse(embedded.textContent || '{}'));
    return;
  }
  const events = new EventSource('/api/events');
  events.addEventListener('state', (e) => show(JSON.parse(e.data)));
  events.addEventListener('tick', (e) => state && applyTick(JSON.parse(e.data)));
  events.addEventListener('end', () => {
    document.body.dataset.ended = 'true';
    $('#scale').textContent += ' · the run has stopped';
    events.close();
  });
})();
