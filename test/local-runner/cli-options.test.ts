/** `npm start` flags: defaults, parsing, and clear errors for bad input. */
import { describe, expect, it } from 'vitest';
import { HELP, UsageError, parseCliOptions } from '../../local/cli-options';

describe('npm start flags', () => {
  it('needs no flags: kinesalite, default rate, live view on a terminal', () => {
    const cli = parseCliOptions([], true);
    expect(cli.pipeline).toEqual({});
    expect(cli.ui).toBe(true);
    expect(cli.intervalSeconds).toBe(1);
    expect(cli.drainTimeoutSeconds).toBe(60);
    expect(cli.durationSeconds).toBeUndefined();
  });

  it('prints JSON lines when stdout is not a terminal or with --no-ui', () => {
    expect(parseCliOptions([], false).ui).toBe(false);
    expect(parseCliOptions(['--no-ui'], true).ui).toBe(false);
    expect(parseCliOptions(['--no-ui'], true).intervalSeconds).toBe(5);
  });

  it('maps every flag to the pipeline options', () => {
    const cli = parseCliOptions(
      ['--kinesis', 'kinesis-local', '--rate', '120', '--invalid-fraction', '0.1', '--events', '500', '--seed', '7', '--data-dir', '/tmp/d', '--log-level', 'info', '--region', 'eu-west-1', '--duration', '30', '--drain-timeout', '10'],
      false,
    );
    expect(cli.pipeline).toEqual({
      kinesis: 'kinesis-local',
      rate: 120,
      invalidFraction: 0.1,
      events: 500,
      seed: 7,
      dataDir: '/tmp/d',
      functionLogLevel: 'info',
      region: 'eu-west-1',
    });
    expect(cli.durationSeconds).toBe(30);
    expect(cli.drainTimeoutSeconds).toBe(10);
  });

  it('takes an existing endpoint (LocalStack) and kinesalite persistence', () => {
    expect(parseCliOptions(['--endpoint', 'http://localhost:4566'], false).pipeline).toEqual({ endpoint: 'http://localhost:4566' });
    expect(parseCliOptions(['--persist-stream'], false).pipeline).toEqual({ persistStream: true });
  });

  it.each([
    [['--rate', 'fast'], /--rate must be a number/],
    [['--rate=-1'], /--rate must be/],
    [['--invalid-fraction', '1.5'], /--invalid-fraction must be between 0 and 1/],
    [['--events', '2.5'], /--events must be a positive integer/],
    [['--duration', '0'], /--duration must be a positive number/],
    [['--kinesis', 'dynamo'], /--kinesis must be kinesalite or kinesis-local/],
    [['--endpoint', 'localhost:4566'], /--endpoint must be an http\(s\) URL/],
    [['--endpoint', 'http://localhost:4566', '--kinesis', 'kinesalite'], /exclude each other/],
    [['--persist-stream', '--kinesis', 'kinesis-local'], /kinesalite only/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--time-scale', '0.5'], /--time-scale must be a number between 1 and 3600/],
    [['--dashboard-port', '70000'], /--dashboard-port must be a port number/],
    [['--dashboard-stage', '../prod'], /--dashboard-stage must name a file of stages\//],
    [['--no-dashboard', '--time-scale', '60'], /--no-dashboard excludes/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseCliOptions(argv, false)).toThrow(UsageError);
    expect(() => parseCliOptions(argv, false)).toThrow(message);
  });

  it('serves the dashboard by default (stage dev, periods as deployed); --no-dashboard turns it off', () => {
    expect(parseCliOptions([], true).dashboard).toEqual({ enabled: true, stage: 'dev', timeScale: 1 });
    expect(parseCliOptions(['--no-dashboard'], true).dashboard.enabled).toBe(false);
    expect(parseCliOptions(['--dashboard-stage', 'prod', '--time-scale', '60', '--dashboard-port', '8123'], false).dashboard).toEqual({
      enabled: true,
      stage: 'prod',
      timeScale: 60,
      port: 8123,
    });
  });

  it('documents every flag in --help', () => {
    expect(parseCliOptions(['--help'], true).help).toBe(true);
    for (const flag of ['--kinesis', '--endpoint', '--persist-stream', '--rate', '--invalid-fraction', '--events', '--duration', '--data-dir', '--no-ui', '--log-level', '--no-dashboard', '--dashboard-stage', '--time-scale', '--dashboard-port']) {
      expect(HELP).toContain(flag);
    }
    for (const line of HELP.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});
