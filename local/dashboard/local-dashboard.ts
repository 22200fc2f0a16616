/**
 * The local dashboard of `npm start`: the stage's dashboard widgets and alarms (taken from the
 * cdktf stack, see ./deployed-definitions.ts) over the run's own metrics (./local-metrics.ts),
 * served as a web page on 127.0.0.1 (a free port unless one is given) and kept in the data folder.
 *
 *   GET /               the page
 *   GET /assets/<file>  uPlot and the page's script and style (shipped, no network)
 *   GET /api/state      the whole state (JSON)
 *   GET /api/events     server-sent events: `state` (everything) at once, then `tick` once a tick,
 *                       `end` when the run has stopped
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PipelineDefinition } from '../../pipeline/definition-schema';
import { pipeline as defaultPipeline } from '../../pipeline/pipeline';
import { DataDir } from '../data-dir';
import type { LocalPipeline, LocalPipelineOptions } from '../runner-types';
import { alarmSummaryLines, alarmViewLines } from './alarm-lines';
import { DashboardModel, type AlarmStatus, type DashboardState } from './dashboard-model';
import { loadDeployedDefinitions, type DeployedDefinitions } from './deployed-definitions';
import { LocalMetricsCollector } from './local-metrics';
import { pageAssets, renderPage } from './page';
import { SeriesFiles } from './series-files';

export interface LocalDashboardOptions {
  definition: PipelineDefinition;
  dataDir: DataDir;
  /** Folder of the stage files (stages/). */
  stagesDir: string;
  /** Whose alarms and dashboard: a stage file name (default dev). */
  stage?: string;
  /** Alarm periods are divided by this (default 1: as deployed). */
  timeScale?: number;
  /** 0 (default) = a free port. */
  port?: number;
  /** Collector period (default 1000 ms). */
  tickMs?: number;
  /** Start the web server (default true); false keeps alarms, terminal lines and files only. */
  serve?: boolean;
}

export class DashboardUsageError extends Error {
  override readonly name = 'DashboardUsageError';
}

/** Checks a time scale against the shortest alarm period: a local period must hold at least one tick. */
export function checkTimeScale(definitions: DeployedDefinitions, timeScale: number, tickMs: number): void {
  if (!Number.isFinite(timeScale) || timeScale < 1) throw new DashboardUsageError(`--time-scale must be a number >= 1, got ${timeScale}`);
  const shortest = Math.min(...definitions.alarms.map((a) => a.period));
  if (Number.isFinite(shortest) && (shortest * 1000) / timeScale < tickMs) {
    throw new DashboardUsageError(
      `--time-scale ${timeScale} makes the shortest alarm period (${shortest} s, stage ${definitions.stage}) shorter than the collector's ${tickMs / 1000} s tick: use at most ${Math.floor((shortest * 1000) / tickMs)}`,
    );
  }
}

export class LocalDashboard {
  private server: Server | undefined;
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private pipeline: Pick<LocalPipeline, 'snapshot' | 'lambda'> | undefined;
  private model: DashboardModel | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private ended = false;
  private failedTicks = 0;
  private lastTickError = '';
  url: string | undefined;

  private constructor(
    readonly definitions: DeployedDefinitions,
    private readonly collector: LocalMetricsCollector,
    private readonly files: SeriesFiles,
    private readonly options: LocalDashboardOptions & { timeScale: number; tickMs: number },
  ) {}

  /** Loads the stage's alarms and widgets, notes where the files stand, starts the web server. Call before the pipeline starts. */
  static async start(options: LocalDashboardOptions): Promise<LocalDashboard> {
    const timeScale = options.timeScale ?? 1;
    const tickMs = options.tickMs ?? 1000;
    const definitions = await loadDeployedDefinitions(options.definition, options.stagesDir, options.stage ?? 'dev');
    checkTimeScale(definitions, timeScale, tickMs);
    const collector = new LocalMetricsCollector(options.definition, definitions.names, options.dataDir);
    await collector.skipExisting();
    const dashboard = new LocalDashboard(definitions, collector, new SeriesFiles(options.dataDir.root), { ...options, timeScale, tickMs });
    if (options.serve !== false) await dashboard.listen(options.port ?? 0);
    return dashboard;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new DashboardUsageError(`--dashboard-port ${port} is in use: pick another or leave it out for a free one`) : error),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /** Starts collecting from the running pipeline (one tick now, then every tickMs). */
  async attach(pipeline: Pick<LocalPipeline, 'snapshot' | 'lambda'>): Promise<void> {
    this.pipeline = pipeline;
    const startedAt = Date.now();
    this.model = new DashboardModel(this.definitions, { pipeline: this.options.definition.name, timeScale: this.options.timeScale, startedAt });
    await this.files.begin({ pipeline: this.options.definition.name, startedAt, timeScale: this.options.timeScale, tickMs: this.options.tickMs, definitions: this.definitions });
    // Pages opened before the run started (the address is printed first) get the state now.
    this.broadcast('state', this.model.state());
    this.timer = setInterval(() => void this.tick(), this.options.tickMs);
    this.timer.unref();
  }

  /** One collector tick (also called by the tests to step deterministically). */
  tick(): Promise<void> {
    this.ticking = this.ticking
      .then(async () => {
        if (!this.pipeline || !this.model) return;
        const t = Date.now();
        const samples = await this.collector.collect({ snapshot: this.pipeline.snapshot(), functions: this.pipeline.lambda.stats() }, t);
        const update = this.model.addTick(t, samples);
        this.files.addTick(t, samples);
        await this.files.flush();
        this.broadcast('tick', update);
      })
      // A failed tick (e.g. the disk is full) must not stop the next ones; the view says so.
      .catch((error: unknown) => {
        this.failedTicks += 1;
        this.lastTickError = (error as Error).message;
      });
    return this.ticking;
  }

  alarms(): AlarmStatus[] {
    return this.model?.alarms() ?? [];
  }

  state(): DashboardState | undefined {
    return this.model?.state();
  }

  get timeScale(): number {
    return this.options.timeScale;
  }

  /** For the live view: the page's address and the alarms in ALARM now. */
  viewLines(): string[] {
    const lines = alarmViewLines(this.alarms(), { stage: this.definitions.stage, timeScale: this.timeScale, url: this.url });
    if (this.failedTicks > 0) lines.push(`  dashboard: ${this.failedTicks} collector ticks failed (last: ${this.lastTickError})`);
    return lines;
  }

  /** For the summary: when each alarm would have been in ALARM. */
  summaryLines(): string[] {
    return alarmSummaryLines(this.alarms(), { stage: this.definitions.stage, timeScale: this.timeScale });
  }

  private broadcast(event: string, data: unknown): void {
    const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.clients) client.write(message);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end('only GET\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(renderPage({ mode: 'live' }));
      return;
    }
    if (path.startsWith('/assets/')) {
      const asset = pageAssets()[path.slice('/assets/'.length)];
      if (!asset) {
        res.writeHead(404).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' }).end(await readFile(asset.path));
      return;
    }
    if (path === '/api/state') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.state() ?? null));
      return;
    }
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      // Tell EventSource to wait long before reconnecting once the run is over.
      res.write('retry: 60000\n\n');
      const state = this.state();
      if (state) res.write(`event: state\ndata: ${JSON.stringify(state)}\n\n`);
      if (this.ended) {
        res.end('event: end\ndata: {}\n\n');
        return;
      }
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
      return;
    }
    res.writeHead(404).end('not found\n');
  }

  /** Last tick (after the pipeline drained), `end` to the pages; the server keeps serving until close(). */
  async finish(): Promise<void> {
    clearInterval(this.timer);
    await this.tick();
    this.model?.close();
    this.ended = true;
    this.broadcast('state', this.state());
    this.broadcast('end', {});
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  async close(): Promise<void> {
    if (!this.ended) await this.finish();
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections of a browser would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
    }
  }
}

/** The dashboard `npm start` runs for its options (the project's definition, data folder and stages/). */
export async function startRunDashboard(
  cli: { enabled: boolean; stage: string; timeScale: number; port?: number },
  pipeline: Pick<LocalPipelineOptions, 'definition' | 'dataDir' | 'projectRoot'>,
  projectRoot: string,
): Promise<LocalDashboard | undefined> {
  if (!cli.enabled) return undefined;
  const root = pipeline.projectRoot ?? projectRoot;
  return LocalDashboard.start({
    definition: pipeline.definition ?? defaultPipeline,
    dataDir: new DataDir(pipeline.dataDir ?? join(root, '.data')),
    stagesDir: join(root, 'stages'),
    stage: cli.stage,
    timeScale: cli.timeScale,
    ...(cli.port !== undefined ? { port: cli.port } : {}),
  });
}
