/**
 * `startLocalPipeline`: the whole pipeline of the definition on this machine. Starts Kinesis
 * (embedded or an endpoint), creates the streams, serves every function as a local Lambda, runs
 * each consumer under a local event source mapping, feeds the stream from a synthetic upstream,
 * and accounts for every record. Used by `npm start` (local/main.ts) and by the tests.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { pipeline as defaultPipeline } from '../pipeline/pipeline';
import { createKinesisClient, defaultRegion } from '../kinesis/client';
import { compileDataPredicate } from '../kinesis/filter-pattern';
import { KinesisProducer } from '../producers/index';
import { createLogger } from '../telemetry/logger';
import { DeliveryLedger } from './accounting';
import { addDatum, emptyFigures, type BusinessFigures } from './business-figures';
import { DataDir } from './data-dir';
import { FileCheckpointStore, LocalEventSourceMapping } from './esm/index';
import { invokerFor } from './function-invoker';
import { startLocalIdempotencyTables } from './idempotency-tables';
import { startKinesisEngine, type KinesisEngine } from './kinesis-engine';
import { LocalLambdaService } from './lambda/local-lambda-service';
import type { LocalFunction } from './lambda/local-function';
import { NdjsonTail } from './ndjson-tail';
import { OnFailureFileSink } from './on-failure-file-sink';
import { RateMeter } from './rate-meter';
import { assessRunHealth } from './run-health';
import { repairTornTails } from './torn-tail-repair';
import { nextRunSeed } from './upstream-seed';
import { writeRunnerState, type RunnerStateFile } from './runner-state-file';
import type { ConsumerSummary, LocalPipeline, LocalPipelineOptions, RunSummary, RunnerSnapshot } from './runner-types';
import { StreamBacklog, type BacklogConsumer } from './stream-backlog';
import { createPipelineStreams, type LocalStream } from './streams';
import { SyntheticUpstream, timeBasedSeed } from './synthetic-upstream';

export type * from './runner-types';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ConsumerRuntime extends BacklogConsumer {
  name: string;
  stream: LocalStream;
  esm: LocalEventSourceMapping;
  fn: LocalFunction;
  onFailure: OnFailureFileSink;
  quarantineTail: NdjsonTail;
  /** Quarantine lines this run has read (its own records, foreign ones, repeats), for `ops status`. */
  quarantineLinesRead: number;
}

export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const definition = options.definition ?? defaultPipeline;
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const dataDir = new DataDir(options.dataDir ?? join(projectRoot, '.data'));
  await dataDir.ensure();
  // Before any writer appends: a torn last line left by an earlier run is moved aside and reported.
  const repairs = await repairTornTails(dataDir.root);
  const region = options.region ?? defaultRegion();
  const logger =
    options.logger ?? createLogger({ name: 'local-runner', level: 'info', destination: pino.destination({ dest: dataDir.logFile('runner'), mkdir: true, sync: true }) });
  const startedAt = new Date();
  const started = performance.now();
  let state: RunnerStateFile['state'] = 'starting';

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    const engine: KinesisEngine = await startKinesisEngine({
      region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      ...(options.kinesis !== undefined ? { engine: options.kinesis } : {}),
      ...(options.persistStream ? { persistDir: dataDir.kinesaliteDir } : {}),
    });
    cleanups.push(() => engine.stop());
    const kinesis = createKinesisClient({ endpoint: engine.endpoint, region });
    cleanups.push(async () => kinesis.destroy());
    const streams = await createPipelineStreams(kinesis, definition);

    // Durable effects (exactly once across containers and runner restarts): the same table as deployed, on dynalite.
    const idempotency = await startLocalIdempotencyTables({
      definition,
      region,
      ...(options.persistStream || options.endpoint !== undefined ? { persistDir: dataDir.dynamodbDir } : {}),
    });
    if (idempotency !== undefined) cleanups.push(() => idempotency.stop());

    const lambda = await LocalLambdaService.start({
      definition,
      ...(idempotency !== undefined ? { idempotency } : {}),
      projectRoot,
      dataDir,
      region,
      ...(options.functionLogLevel !== undefined ? { functionLogLevel: options.functionLogLevel } : {}),
      ...(options.asyncRetryDelaysMs !== undefined ? { asyncRetryDelaysMs: options.asyncRetryDelaysMs } : {}),
      ...(options.waitForAsyncRetriesAtStop ? { waitForAsyncRetriesAtStop: true } : {}),
      ...(options.lambdaInitTimeoutMs !== undefined ? { initTimeoutMs: options.lambdaInitTimeoutMs } : {}),
    });
    cleanups.push(() => lambda.close());

    // The stream outlives this run (kept on disk, or someone else's Kinesis): so do the mappings'
    // checkpoints, as on AWS, so a restarted runner resumes instead of processing everything again.
    const checkpointStore =
      options.persistStream || options.endpoint !== undefined
        ? new FileCheckpointStore({ dir: dataDir.checkpointsDir, pipeline: definition.name, logger: logger.child({ component: 'checkpoints' }) })
        : undefined;
    const ledger = new DeliveryLedger();
    const droppedWindows: { consumer: string; shardId: string; window: { start: string; end: string } }[] = [];
    // Consumers filtering in their runtime (recordFilterPatterns), with the same compiler the runtime uses.
    const runtimeFilters = Object.entries(definition.consumers)
      .filter(([, c]) => c.recordFilterPatterns.length > 0)
      .map(([name, c]) => ({ name, stream: streams.get(c.stream)!.name, matches: compileDataPredicate(c.recordFilterPatterns) }));
    const consumers: ConsumerRuntime[] = [];
    for (const [name, consumer] of Object.entries(definition.consumers)) {
      const stream = streams.get(consumer.stream)!;
      const fn = lambda.get(name);
      ledger.addConsumer(name, stream.name);
      const onFailure = new OnFailureFileSink(dataDir.onFailureFile(name));
      const quarantineTail = new NdjsonTail(dataDir.quarantineFile(name));
      await quarantineTail.skipExisting();
      const esm = new LocalEventSourceMapping({
        kinesis,
        consumerName: name,
        functionArn: fn.arn,
        streamName: stream.name,
        streamArn: stream.arn,
        region,
        settings: consumer.mapping,
        invoke: invokerFor(fn),
        onFailure,
        logger: logger.child({ consumer: name }),
        ...(options.esmTiming !== undefined ? { timing: options.esmTiming } : {}),
        onActivity: (activity) => {
          if (activity.type === 'window-dropped') droppedWindows.push({ consumer: name, shardId: activity.shardId, window: activity.window });
          ledger.onActivity(name, activity);
        },
        ...(checkpointStore !== undefined ? { checkpointStore } : {}),
        // The in-memory stream dies with the runner: an open window is closed (published) at stop, not dropped.
        closeWindowsAtStop: checkpointStore === undefined,
      });
      consumers.push({
        name,
        stream,
        startingPosition: consumer.mapping.startingPosition,
        shard: (shardId) => esm.stats().shards[shardId],
        esm,
        fn,
        onFailure,
        quarantineTail,
        quarantineLinesRead: 0,
      });
    }

    const business = new Map<string, { figures: BusinessFigures; tail: NdjsonTail }>();
    for (const consumer of Object.values(definition.consumers)) {
      const namespace = consumer.metricsNamespace ?? consumer.environment['BUSINESS_METRICS_NAMESPACE'];
      if (namespace === undefined || business.has(namespace)) continue;
      const tail = new NdjsonTail(dataDir.metricsFile(namespace));
      await tail.skipExisting();
      business.set(namespace, { figures: emptyFigures(namespace), tail });
    }

    const rate = options.rate ?? 50;
    const seed = options.seed ?? timeBasedSeed();
    // A stream that outlives the runner already holds the ids an earlier run wrote with this seed: a resumed run gets its own.
    let upstreamSeed = seed;
    if (options.seed !== undefined && rate > 0 && (options.persistStream || options.endpoint !== undefined)) {
      const next = await nextRunSeed(dataDir.root, options.seed);
      upstreamSeed = next.seed;
      if (next.run > 0) logger.info({ seed: options.seed, run: next.run, upstreamSeed }, 'resumed stream: the upstream uses a seed of its own for this run, so no event id repeats');
    }
    const upstreams = new Map<string, SyntheticUpstream>();
    const producedPerStream = new Map<string, { records: number; invalid: number; failed: number }>();
    for (const stream of streams.values()) {
      producedPerStream.set(stream.name, { records: 0, invalid: 0, failed: 0 });
      if (rate <= 0) continue;
      const producer = new KinesisProducer({ streamName: stream.name, endpoint: engine.endpoint, region, logger: logger.child({ component: 'producer' }) });
      upstreams.set(
        stream.name,
        new SyntheticUpstream({
          stream: stream.name,
          producer,
          rate,
          invalidFraction: options.invalidFraction ?? 0.02,
          ...(options.events !== undefined ? { maxEvents: options.events } : {}),
          seed: upstreamSeed,
          onProduced: (event) => {
            ledger.recordProduced(event.stream, event.shardId, event.sequenceNumber, {
              eventId: event.eventId,
              valid: event.valid,
              ...(event.invalidKind !== undefined ? { invalidKind: event.invalidKind } : {}),
            });
            for (const filter of runtimeFilters) {
              if (filter.stream === event.stream && !filter.matches(event.value)) ledger.markFilteredByRuntime(filter.name, event.shardId, event.sequenceNumber);
            }
            const counts = producedPerStream.get(event.stream)!;
            counts.records += 1;
            if (!event.valid) counts.invalid += 1;
          },
          onFailed: (error) => {
            producedPerStream.get(stream.name)!.failed += 1;
            logger.error({ err: error, stream: stream.name }, 'the producer gave up on a synthetic event');
          },
        }),
      );
    }

    // Consumers start before the upstream so that LATEST mappings see every synthetic record.
    for (const consumer of consumers) await consumer.esm.start();
    cleanups.push(async () => {
      await Promise.all(consumers.map((c) => c.esm.stop()));
    });
    // Records already on the stream that a consumer has not checkpointed (an earlier run stopped before
    // it caught up): the drain waits for them too (stream-backlog.ts). Noted before the upstream produces.
    const backlog = new StreamBacklog(kinesis, consumers);
    for (const upstream of upstreams.values()) upstream.start();
    state = 'running';
    logger.info({ kinesis: engine.endpoint, lambda: lambda.endpoint.url, dataDir: dataDir.root }, 'local pipeline started');
    for (const repair of repairs) logger.warn(repair, 'a torn last line (an interrupted append) was moved aside');

    const meter = new RateMeter();
    const accounts = () => new Map(ledger.accounts().map((a) => [a.consumer, a]));

    const snapshot = (): RunnerSnapshot => {
      const accountOf = accounts();
      return {
        at: new Date().toISOString(),
        uptimeMs: Math.round(performance.now() - started),
        state,
        seed,
        pipeline: definition.name,
        kinesisEngine: engine.kind,
        kinesisEndpoint: engine.endpoint,
        lambdaEndpoint: lambda.endpoint.url,
        dataDir: dataDir.root,
        streams: [...streams.values()].map((stream) => {
          const counts = producedPerStream.get(stream.name)!;
          return {
            name: stream.name,
            arn: stream.arn,
            shards: stream.shardIds.length,
            putRate: meter.rate(`put:${stream.name}`),
            records: counts.records,
            invalid: counts.invalid,
            failedPuts: counts.failed,
          };
        }),
        consumers: consumers.map((c) => {
          const esm = c.esm.stats();
          const account = accountOf.get(c.name)!;
          return {
            name: c.name,
            stream: c.stream.name,
            state: esm.state,
            batchesPerSecond: meter.rate(`batches:${c.name}`),
            recordsPerSecond: meter.rate(`records:${c.name}`),
            iteratorAgeMs: esm.iteratorAgeMs,
            millisBehindLatest: esm.millisBehindLatest,
            maxIteratorAgeMs: esm.maxIteratorAgeMs,
            inFlight: esm.inFlightBatches,
            retries: esm.retries,
            invocationErrors: esm.invocationErrors,
            processed: account.processed,
            filtered: account.filtered,
            quarantined: account.quarantined,
            validQuarantined: account.validQuarantined,
            quarantineLinesRead: c.quarantineLinesRead,
            onFailure: esm.recordsDiscarded,
            duplicatesSkipped: c.fn.emf.get('DuplicatesSkipped'),
            missing: account.missing,
            ...(esm.checkpointWrites?.unsavedSince !== undefined
              ? {
                  checkpointsUnsaved: {
                    since: esm.checkpointWrites.unsavedSince,
                    failedWrites: esm.checkpointWrites.failedWrites,
                    lastError: esm.checkpointWrites.lastError ?? 'unknown',
                  },
                }
              : {}),
          };
        }),
        functions: Object.entries(lambda.stats()).map(([name, s]) => ({
          name,
          invocations: s.invocations,
          errors: s.errors,
          timeouts: s.timeouts,
          crashes: s.crashes,
          inFlight: s.inFlight,
          sandboxes: s.sandboxes,
          asyncAccepted: s.asyncAccepted,
          asyncPending: s.asyncPending,
          asyncFailed: s.asyncFailed,
        })),
        business: [...business.values()].map((b) => b.figures),
      };
    };

    /** Set once stopped: every later write of runner.json carries it (a refresh queued by the timer may still run). */
    let finalSummary: RunSummary | undefined;
    const stateFile = (): RunnerStateFile => {
      const view = snapshot();
      const lambdaStats = lambda.stats();
      return {
        pid: process.pid,
        state,
        seed,
        startedAt: startedAt.toISOString(),
        updatedAt: view.at,
        dataDir: dataDir.root,
        kinesisEngine: engine.kind,
        kinesisEndpoint: engine.endpoint,
        lambdaEndpoint: lambda.endpoint.url,
        ...(idempotency !== undefined
          ? {
              dynamodbEndpoint: idempotency.endpoint,
              idempotencyTables: Object.fromEntries(
                [...Object.keys(definition.consumers), ...Object.keys(definition.functions)].flatMap((name) => {
                  const table = idempotency.tableName(name);
                  return table === undefined ? [] : [[name, table]];
                }),
              ),
            }
          : {}),
        region,
        streams: Object.fromEntries([...streams.values()].map((s) => [s.name, { arn: s.arn, shards: s.shardIds }])),
        consumers: Object.fromEntries(
          consumers.map((c) => {
            const { shards: _shards, ...esm } = c.esm.stats();
            return [
              c.name,
              {
                functionArn: c.fn.arn,
                functionName: c.fn.name,
                stream: c.stream.name,
                streamArn: c.stream.arn,
                stats: { ...view.consumers.find((v) => v.name === c.name), mapping: esm, shards: _shards },
              },
            ];
          }),
        ),
        functions: Object.fromEntries(Object.entries(lambdaStats).map(([name, s]) => [name, { functionArn: s.functionArn, functionName: name, stats: s }])),
        upstream: Object.fromEntries([...upstreams].map(([name, u]) => [name, u.counters])),
        ...(options.dashboardUrl !== undefined ? { dashboard: { url: options.dashboardUrl } } : {}),
        ...(finalSummary !== undefined ? { summary: finalSummary } : {}),
      };
    };

    let refreshing: Promise<void> = Promise.resolve();
    const refresh = async () => {
      for (const c of consumers) {
        for (const line of await c.quarantineTail.read()) {
          c.quarantineLinesRead += 1;
          ledger.onQuarantined(c.name, line);
        }
      }
      for (const b of business.values()) for (const line of await b.tail.read()) addDatum(b.figures, line);
      const values = new Map<string, number>();
      for (const [name, counts] of producedPerStream) values.set(`put:${name}`, counts.records);
      for (const c of consumers) {
        const esm = c.esm.stats();
        values.set(`batches:${c.name}`, esm.invocations);
        values.set(`records:${c.name}`, esm.recordsProcessed + esm.recordsFiltered);
      }
      meter.sample(values);
      await writeRunnerState(dataDir.runnerFile, stateFile());
    };
    const runRefresh = () => (refreshing = refreshing.then(refresh).catch((error: unknown) => logger.warn({ err: error }, 'refresh failed')));
    await runRefresh();
    const timer = setInterval(runRefresh, options.refreshIntervalMs ?? 1000);

    const nothingMissing = () => ledger.accounts().every((a) => a.missing === 0);
    /** Poll (refreshing the counters read from files) until `done()` or the timeout. */
    const waitFor = async (done: () => boolean, timeoutMs: number): Promise<boolean> => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        await runRefresh();
        if (done()) return true;
        if (performance.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const waitUntilAccounted = (timeoutMs: number) => waitFor(() => [...upstreams.values()].every((u) => u.finished) && nothingMissing(), timeoutMs);

    /** The stream's tip at drain time; Kinesis errors (a fault proxy) are retried until the deadline, then only this run's records are waited for. */
    const readDrainTarget = async (deadline: number): Promise<() => boolean> => {
      for (;;) {
        try {
          return await backlog.drainTarget();
        } catch (error) {
          if (performance.now() > deadline) {
            logger.warn({ err: error }, "the stream's tip could not be read: the drain waits for this run's records only");
            return () => true;
          }
          logger.warn({ err: error }, "reading the stream's tip for the drain failed; retrying");
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };

    let stopping: Promise<RunSummary> | undefined;
    const stop = (stopOptions: { drainTimeoutMs?: number } = {}): Promise<RunSummary> => {
      stopping ??= (async () => {
        state = 'draining';
        logger.info('draining: upstream stops, consumers finish what was produced');
        await Promise.all([...upstreams.values()].map((u) => u.stop()));
        // Every upstream is finished now: wait until the consumers have checkpointed everything, this run's
        // records and the stream's tip as it is now (records of earlier runs included).
        const drainTimeoutMs = stopOptions.drainTimeoutMs ?? 60_000;
        const drainDeadline = performance.now() + drainTimeoutMs;
        const atTip = await readDrainTarget(drainDeadline);
        const drained = await waitFor(() => nothingMissing() && atTip(), Math.max(0, drainDeadline - performance.now()));
        if (!drained) logger.warn('drain timeout: some records were not processed in time');
        await Promise.all(consumers.map((c) => c.esm.stop()));
        await lambda.drainAsync();
        // Stop the timer before the last refresh, so no tick queues a refresh behind the final write.
        clearInterval(timer);
        await runRefresh();
        const summary = summarise();
        finalSummary = summary;
        state = 'stopped';
        await writeRunnerState(dataDir.runnerFile, stateFile());
        await Promise.all(consumers.map((c) => c.onFailure.flush()));
        await cleanup();
        logger.info({ summary }, 'local pipeline stopped');
        logger.flush?.();
        return summary;
      })();
      return stopping;
    };

    const summarise = (): RunSummary => {
      const perConsumer: ConsumerSummary[] = consumers.map((c) => {
        const esm = c.esm.stats();
        const account = ledger.account(c.name);
        const earlier = backlog.count(c);
        return {
          ...account,
          ...earlier,
          accounted: account.accounted && earlier.backlogCheckpointed === earlier.backlogAtStart,
          duplicatesSkipped: c.fn.emf.get('DuplicatesSkipped'),
          maxIteratorAgeMs: esm.maxIteratorAgeMs,
          // RecordsProcessed counts what the runtime filter left out too (as Lambda counts a filtered record);
          // the runner's `processed` does not, so compare like with like.
          reportedProcessed: c.fn.emf.get('RecordsProcessed') - c.fn.emf.get('RecordsFiltered'),
        };
      });
      let produced = 0;
      let invalid = 0;
      let failed = 0;
      for (const counts of producedPerStream.values()) {
        produced += counts.records;
        invalid += counts.invalid;
        failed += counts.failed;
      }
      const sum = (pick: (c: ConsumerSummary) => number) => perConsumer.reduce((total, c) => total + pick(c), 0);
      return {
        durationMs: Math.round(performance.now() - started),
        seed,
        produced,
        producedValid: produced - invalid,
        producedInvalid: invalid,
        failedPuts: failed,
        processed: sum((c) => c.processed),
        quarantined: sum((c) => c.quarantined),
        filtered: sum((c) => c.filtered),
        onFailure: sum((c) => c.onFailure),
        duplicatesSkipped: sum((c) => c.duplicatesSkipped),
        missing: sum((c) => c.missing),
        backlogAtStart: sum((c) => c.backlogAtStart),
        backlogCheckpointed: sum((c) => c.backlogCheckpointed),
        maxIteratorAgeMs: perConsumer.reduce((max, c) => Math.max(max, c.maxIteratorAgeMs), 0),
        consumers: perConsumer,
        accounted: perConsumer.every((c) => c.accounted),
        health: assessRunHealth(lambda.stats(), Object.fromEntries(consumers.map((c) => [c.name, c.esm.stats()])), {
          repairs,
          droppedWindows,
          unreadable: new Map(consumers.map((c) => [c.quarantineTail.path, c.quarantineTail.unreadable])),
        }),
      };
    };

    return {
      kinesisEndpoint: engine.endpoint,
      lambdaEndpoint: lambda.endpoint.url,
      region,
      dataDir,
      streams,
      lambda,
      kinesis,
      snapshot,
      waitUntilAccounted,
      stop,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
