/**
 * X-Ray meets the envelope: with active tracing Lambda sets _X_AMZN_TRACE_ID for each invocation
 * ("Visualize Lambda function invocations using AWS X-Ray"); the runtime puts it on every line of the
 * invocation, and a record's failure line carries the record's envelope traceId beside it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, createKinesisHandler } from '../../consumers/runtime/index';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { LogCapture, kinesisEvent, lambdaContext } from './helpers';

const saved = process.env['_X_AMZN_TRACE_ID'];
afterEach(() => {
  if (saved === undefined) delete process.env['_X_AMZN_TRACE_ID'];
  else process.env['_X_AMZN_TRACE_ID'] = saved;
});

describe('trace ids in the logs', () => {
  it('every invocation line carries the X-Ray trace id; a failed record line its envelope traceId too', async () => {
    const xray = 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1';
    process.env['_X_AMZN_TRACE_ID'] = xray;
    const logs = new LogCapture();
    const event = { ...createFixtures({ seed: 3 }).next(), traceId: 'upstream-trace-7' } as OrderEvent;
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'trace-test',
      registry,
      quarantine: new InMemoryQuarantineSink(),
      logDestination: logs,
      metrics: false,
      handlers: {
        [event.type]: () => {
          throw new Error('downstream unavailable');
        },
      } as never,
    });
    const result = await handler(kinesisEvent([event]), lambdaContext());
    expect(result.batchItemFailures).toHaveLength(1);
    const failed = logs.find('record failed; it will be redelivered')[0]!;
    expect(failed).toMatchObject({ xrayTraceId: xray, traceId: 'upstream-trace-7', eventId: event.id });
    expect(logs.find('batch partly failed')[0]).toMatchObject({ xrayTraceId: xray });
  });

  it('without tracing there is no xrayTraceId field', async () => {
    delete process.env['_X_AMZN_TRACE_ID'];
    const logs = new LogCapture();
    const handler = createKinesisHandler<OrderEvent>({ consumerName: 't', registry, quarantine: new InMemoryQuarantineSink(), logDestination: logs, metrics: false, handlers: {} });
    await handler(kinesisEvent([createFixtures({ seed: 4 }).next()]), lambdaContext());
    expect(logs.find('batch processed')[0]).not.toHaveProperty('xrayTraceId');
  });
});
