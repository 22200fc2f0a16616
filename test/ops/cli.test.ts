/** The CLI shell: help per subcommand, usage errors with exit code 2. */
import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from '../../ops/cli';
import { captureIo } from './helpers';

describe('ops CLI', () => {
  it.each(COMMANDS.map((c) => c.name))('%s --help prints its usage, examples and the global options', async (name) => {
    const { io, out } = captureIo();
    expect(await runCli([name, '--help'], { io })).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`Usage: ops ${name}`);
    expect(text).toContain('Examples:');
    expect(text).toContain('--stage NAME');
    expect(text).toContain('--local');
  });

  it('lists the commands, and rejects unknown commands and options with exit code 2', async () => {
    const help = captureIo();
    expect(await runCli(['--help'], { io: help.io })).toBe(0);
    for (const c of COMMANDS) expect(help.out.join('\n')).toContain(`  ${c.name}`);

    const unknown = captureIo();
    expect(await runCli(['explode'], { io: unknown.io })).toBe(2);
    expect(unknown.err[0]).toBe('unknown command "explode"');

    const badOption = captureIo();
    expect(await runCli(['redrive', 'order-review', '--colour'], { io: badOption.io })).toBe(2);
    expect(badOption.err[0]).toContain("Unknown option '--colour'");

    const badMode = captureIo();
    expect(await runCli(['redrive', 'order-review', '--mode', 'teleport'], { io: badMode.io })).toBe(2);
    expect(badMode.err[0]).toContain('--mode must be invoke or reput');

    const badConsumer = captureIo();
    expect(await runCli(['redrive', 'nope', '--stage', 'dev'], { io: badConsumer.io })).toBe(2);
    expect(badConsumer.err[0]).toContain('unknown consumer "nope"; consumers: order-metrics, order-review');
  });
});
