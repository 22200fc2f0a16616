/** `ops pause|resume`: the exact Lambda calls (mocked) and the confirmation rules. */
import { LambdaClient, ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../ops/cli';
import { captureIo } from './helpers';

const lambda = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const lambdaMock = mockClient(lambda);

beforeEach(() => {
  lambdaMock.reset();
  lambdaMock.on(ListEventSourceMappingsCommand).resolves({
    EventSourceMappings: [{ UUID: 'uuid-1', State: 'Enabled', EventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders-staging-orders' }],
  });
  lambdaMock.on(UpdateEventSourceMappingCommand).callsFake((input: { Enabled: boolean }) => ({ UUID: 'uuid-1', State: input.Enabled ? 'Enabling' : 'Disabling' }));
});

describe('ops pause / resume', () => {
  it('pause --yes disables the mapping of the stage function', async () => {
    const { io, out } = captureIo();
    expect(await runCli(['pause', 'order-review', '--stage', 'staging', '--yes'], { io, clients: { lambda } })).toBe(0);
    expect(lambdaMock.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input)).toEqual([{ FunctionName: 'orders-staging-order-review' }]);
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-1', Enabled: false }]);
    expect(out[0]).toBe('orders-staging-order-review mapping uuid-1: Enabled -> Disabling');
  });

  it('resume asks on a terminal and enables only after yes', async () => {
    const yes = captureIo({ interactive: true, answer: true });
    expect(await runCli(['resume', 'order-review', '--stage', 'staging'], { io: yes.io, clients: { lambda } })).toBe(0);
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-1', Enabled: true }]);

    lambdaMock.resetHistory();
    const no = captureIo({ interactive: true, answer: false });
    expect(await runCli(['resume', 'order-review', '--stage', 'staging'], { io: no.io, clients: { lambda } })).toBe(1);
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(0);
    expect(no.err).toContain('nothing changed');
  });

  it('refuses without a terminal unless --yes, changing nothing', async () => {
    const { io, err } = captureIo({ interactive: false });
    expect(await runCli(['pause', 'order-review', '--stage', 'staging'], { io, clients: { lambda } })).toBe(2);
    expect(err[0]).toContain('pass --yes');
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(0);
  });

  it('reports a function without a mapping on the stream', async () => {
    lambdaMock.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [{ UUID: 'x', EventSourceArn: 'arn:aws:sqs:us-east-1:1:queue' }] });
    const { io, err } = captureIo();
    expect(await runCli(['pause', 'order-review', '--stage', 'staging', '--yes'], { io, clients: { lambda } })).toBe(1);
    expect(err[0]).toContain('no event source mapping');
    expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(0);
  });
});
