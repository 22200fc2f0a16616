/**
 * A short chaos matrix in CI (the full one is `npm run chaos`): the real local pipeline under
 * SCHEDULED faults, judged against ground truth computed from the stream (ops verify), with a redrive
 * of whatever ended in on-failure. Short runs (3 s of production at 25 events/s) keep it to well under
 * two minutes on 2 cores; the assertions are the same as the full run's verdict.
 */
import { describe, expect, it } from 'vitest';
import { runScenario, type ChaosOptions } from '../../chaos/run-scenario';
import { SCENARIOS } from '../../chaos/scenarios';

const options: ChaosOptions = { durationMs: 3000, rate: 25, seed: 11, invalidFraction: 0.05, keep: false, log: () => undefined };
const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;

describe('chaos matrix (short)', () => {
  it('worker processes SIGKILLed mid-run: nothing lost, nothing counted twice, every consumer drained', async () => {
    const row = await runScenario(scenario('worker-kill'), options);
    expect(row.notes.some((n) => n.includes('SIGKILL worker'))).toBe(true);
    expect(row.events).toBeGreaterThan(40);
    expect({ lost: row.lost, double: row.double, stuck: row.stuck, problems: row.problems }).toEqual({ lost: 0, double: 0, stuck: 0, problems: [] });
    expect(row.ok).toBe(true);
  }, 240_000);

  it('Kinesis faults through the proxy (throttles, 500s, resets, ambiguous writes, latency, a hung request): effects exactly once', async () => {
    const row = await runScenario(scenario('kinesis-faults'), options);
    // Each kind of fault really happened (scheduled, so deterministic in kind, counted by the proxy).
    expect(Object.keys(row.faults ?? {})).toEqual(expect.arrayContaining(['GetRecords:throttle', 'PutRecords:entryThrottle', 'PutRecords:resetAfterForward']));
    // Ambiguous writes put events on the stream twice; whether copies straddle a minute boundary depends on
    // the clock, and either way each effect counts once (order-metrics seeds a window's duplicate check
    // with its previous window's ids: test/consumers/order-metrics-cross-window.test.ts builds that case).
    expect(row.events).toBeGreaterThanOrEqual(row.unique);
    expect({ lost: row.lost, double: row.double, stuck: row.stuck, problems: row.problems }).toEqual({ lost: 0, double: 0, stuck: 0, problems: [] });
    expect(row.ok).toBe(true);
  }, 240_000);
});
