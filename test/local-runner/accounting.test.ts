/** The run's per-record accounting: every produced record ends in exactly one state per consumer. */
import { describe, expect, it } from 'vitest';
import { DeliveryLedger } from '../../local/accounting';

const S0 = 'shardId-000000000000';
const S1 = 'shardId-000000000001';

function ledgerWithRecords(): DeliveryLedger {
  const ledger = new DeliveryLedger();
  ledger.addConsumer('c', 'orders');
  ledger.recordProduced('orders', S0, '100', { eventId: 'a', valid: true });
  ledger.recordProduced('orders', S0, '200', { eventId: 'b', valid: false, invalidKind: 'zero-quantity' });
  ledger.recordProduced('orders', S0, '300', { eventId: 'c', valid: true });
  ledger.recordProduced('orders', S1, '150', { eventId: 'd', valid: true });
  return ledger;
}

describe('DeliveryLedger', () => {
  it('counts records up to the checkpoint as processed, and the rest as missing', () => {
    const ledger = ledgerWithRecords();
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '200' });
    const account = ledger.account('c');
    expect(account).toMatchObject({ produced: 4, processed: 2, missing: 2, accounted: false, invalidProcessed: 1 });
  });

  it('classifies filtered, quarantined and discarded records, and is accounted when nothing is missing', () => {
    const ledger = ledgerWithRecords();
    ledger.onActivity('c', { type: 'filtered', shardId: S0, sequenceNumber: '100' });
    ledger.onQuarantined('c', { record: { shardId: S0, sequenceNumber: '200' } });
    ledger.onActivity('c', { type: 'discard', shardId: S1, condition: 'RetryAttemptsExhausted', sequenceNumbers: ['150'] });
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '300' });
    ledger.onActivity('c', { type: 'checkpoint', shardId: S1, sequenceNumber: '150' });
    expect(ledger.account('c')).toMatchObject({ filtered: 1, quarantined: 1, onFailure: 1, processed: 1, missing: 0, accounted: true, validQuarantined: 0 });
  });

  it('compares sequence numbers as 128-bit integers, not strings, and never moves a checkpoint back', () => {
    const ledger = new DeliveryLedger();
    ledger.addConsumer('c', 'orders');
    ledger.recordProduced('orders', S0, '49590338271490256608559692538361571095921575989136588898', { eventId: 'x', valid: true });
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '49590338271490256608559692538361571095921575989136588898' });
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '9' });
    expect(ledger.account('c').processed).toBe(1);
  });

  it('counts a record invoked again after its checkpoint as a redelivery, and unknown records as foreign', () => {
    const ledger = ledgerWithRecords();
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '200' });
    ledger.onActivity('c', { type: 'invoke', shardId: S0, lane: 0, sequenceNumbers: ['200', '300', '999'] });
    const account = ledger.account('c');
    expect(account.redeliveredAfterCheckpoint).toBe(1);
    expect(account.foreign).toBe(1);
  });

  it('tells records from before this run apart from records written during it outside the upstream (ambiguous-put retries, re-puts)', () => {
    const ledger = ledgerWithRecords();
    // 50 is older than this run's first record on S0 (100): from before the run. 250 and 999 lie after it:
    // written during the run by something the upstream did not record.
    ledger.onActivity('c', { type: 'invoke', shardId: S0, lane: 0, sequenceNumbers: ['50', '100', '250', '999'] });
    expect(ledger.account('c')).toMatchObject({ foreign: 3, foreignBeforeRun: 1, foreignDuringRun: 2 });
  });

  it('does not call a record foreign when its put result arrives after the invocation', () => {
    const ledger = new DeliveryLedger();
    ledger.addConsumer('c', 'orders');
    ledger.onActivity('c', { type: 'invoke', shardId: S0, lane: 0, sequenceNumbers: ['5'] });
    ledger.recordProduced('orders', S0, '5', { eventId: 'late', valid: true });
    expect(ledger.account('c').foreign).toBe(0);
  });

  it('moves a record from processed to quarantined when its quarantine line is read after the checkpoint', () => {
    const ledger = ledgerWithRecords();
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '300' });
    expect(ledger.account('c')).toMatchObject({ processed: 3, quarantined: 0, invalidProcessed: 1 });
    ledger.onQuarantined('c', { record: { shardId: S0, sequenceNumber: '200' } });
    ledger.onQuarantined('c', { record: { shardId: S0, sequenceNumber: '200' } });
    expect(ledger.account('c')).toMatchObject({ processed: 2, quarantined: 1, invalidProcessed: 0 });
  });

  it('resolves a record whose put result arrives after the checkpoint passed it, with marks seen before it', () => {
    const ledger = new DeliveryLedger();
    ledger.addConsumer('c', 'orders');
    ledger.onActivity('c', { type: 'filtered', shardId: S0, sequenceNumber: '7' });
    ledger.onActivity('c', { type: 'checkpoint', shardId: S0, sequenceNumber: '10' });
    ledger.recordProduced('orders', S0, '7', { eventId: 'early', valid: true });
    ledger.recordProduced('orders', S0, '11', { eventId: 'later', valid: true });
    expect(ledger.account('c')).toMatchObject({ produced: 2, filtered: 1, missing: 1 });
  });

  it('keeps one account per consumer of the same stream', () => {
    const ledger = new DeliveryLedger();
    ledger.addConsumer('a', 'orders');
    ledger.addConsumer('b', 'orders');
    ledger.recordProduced('orders', S0, '1', { eventId: 'x', valid: true });
    ledger.onActivity('a', { type: 'checkpoint', shardId: S0, sequenceNumber: '1' });
    expect(ledger.account('a')).toMatchObject({ processed: 1, missing: 0 });
    expect(ledger.account('b')).toMatchObject({ processed: 0, missing: 1 });
  });
});
