/**
 * The bad-input corpus (every kind of broken record the consumer runtime must quarantine), shared by
 * test/consumer-runtime/bad-input-corpus.test.ts and the compiled-validator parity test in test/schemas.
 */
import { createHash } from 'node:crypto';
import type { PermanentFailureKind } from '../../consumers/runtime/index';
import { encodeAggregate } from '../../kinesis/kpl';
import { createFixtures } from '../../schemas/fixtures';
import { b64 } from './helpers';

/** The fixtures the corpus draws from (seed 99); the corpus test draws its good records from it too. */
export const f = createFixtures({ seed: 99 });

export interface BadInput {
  readonly name: string;
  /** base64 `data` exactly as Lambda would deliver it. */
  readonly data: string;
  readonly kind: PermanentFailureKind;
  readonly reason: RegExp;
  /** For aggregates: which user record fails, and its bytes. */
  readonly user?: { readonly sub: number; readonly bytes: Buffer };
  /** Contract violations ('envelope', 'schema'): the field paths of the validation issues, in order. */
  readonly issues?: readonly string[];
}

const json = (value: unknown) => b64(value);
const aggregate = (...users: Buffer[]) => Buffer.from(encodeAggregate(users.map((data, i) => ({ partitionKey: `u${i}`, data }))));
const withMd5 = (body: Buffer) => Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), body, createHash('md5').update(body).digest()]);

export function corpus(): BadInput[] {
  const placed = () => f.orderPlaced();
  const good = Buffer.from(JSON.stringify(f.orderPaid()));
  const agg = aggregate(good, Buffer.from(JSON.stringify(f.orderPaid())));
  const brokenMd5 = Buffer.from(agg);
  brokenMd5[6] = brokenMd5[6]! ^ 0x55;
  const truncatedBody = agg.subarray(4, agg.length - 16 - 7);
  const invalidUser = Buffer.from('{"type":');
  const deep = '['.repeat(100) + ']'.repeat(100);
  const oversizeName = placed();
  oversizeName.data.shippingAddress.name = 'N'.repeat(5000);
  const mistyped = placed();
  (mistyped.data.lines[0] as { quantity: unknown }).quantity = '3';
  const totalOff = placed();
  totalOff.data.totalMinor += 10;
  const extraField = { ...f.orderPaid(), extra: true };
  const { data: paidData, ...paidRest } = f.orderPaid();
  const { currency: _c, ...noCurrency } = paidData;
  return [
    { name: 'invalid base64 characters', data: '!!!!not-base64!!!!', kind: 'invalid-base64', reason: /not valid base64/ },
    { name: 'base64 with broken padding', data: 'eyJhIjoxfQ=', kind: 'invalid-base64', reason: /not valid base64/ },
    { name: 'base64 with embedded whitespace', data: 'eyJh IjoxfQ==', kind: 'invalid-base64', reason: /not valid base64/ },
    { name: 'aggregate with broken checksum', data: brokenMd5.toString('base64'), kind: 'corrupt-aggregate', reason: /MD5 checksum does not match/ },
    { name: 'truncated aggregate (bytes cut off)', data: agg.subarray(0, agg.length - 9).toString('base64'), kind: 'corrupt-aggregate', reason: /corrupt/ },
    { name: 'truncated protobuf with matching checksum', data: withMd5(truncatedBody).toString('base64'), kind: 'corrupt-aggregate', reason: /runs past the end|ends inside/ },
    { name: 'aggregate shorter than its trailer', data: Buffer.from([0xf3, 0x89, 0x9a, 0xc2, 1, 2]).toString('base64'), kind: 'corrupt-aggregate', reason: /shorter than/ },
    { name: 'aggregate pointing at a missing partition key', data: withMd5(Buffer.from([0x1a, 0x05, 0x08, 0x02, 0x1a, 0x01, 0x7b])).toString('base64'), kind: 'corrupt-aggregate', reason: /partition key 2/ },
    { name: 'invalid JSON inside an aggregate', data: aggregate(good, invalidUser).toString('base64'), kind: 'invalid-json', reason: /not valid JSON/, user: { sub: 1, bytes: invalidUser } },
    { name: 'invalid UTF-8', data: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64'), kind: 'invalid-utf8', reason: /UTF-8/ },
    { name: 'empty data', data: '', kind: 'invalid-json', reason: /empty/ },
    { name: 'plain text', data: json('hello world'), kind: 'invalid-json', reason: /not valid JSON/ },
    { name: 'truncated JSON', data: json('{"id":"abc","type":"order.paid"'), kind: 'invalid-json', reason: /not valid JSON/ },
    { name: 'JSON with trailing comma', data: json('{"a":1,}'), kind: 'invalid-json', reason: /not valid JSON/ },
    { name: 'JSON null', data: json('null'), kind: 'envelope', reason: /must be a JSON object/, issues: [''] },
    { name: 'JSON array', data: json('[1,2,3]'), kind: 'envelope', reason: /must be a JSON object/, issues: [''] },
    { name: 'JSON number', data: json('42'), kind: 'envelope', reason: /must be a JSON object/, issues: [''] },
    { name: 'JSON string', data: json('"order.placed"'), kind: 'envelope', reason: /must be a JSON object/, issues: [''] },
    { name: 'JSON boolean', data: json('true'), kind: 'envelope', reason: /must be a JSON object/, issues: [''] },
    { name: 'deep nesting', data: json(`{"id":${deep}}`), kind: 'too-deep', reason: /deeper than 32 levels/ },
    { name: '__proto__ key', data: json(`{"__proto__":{"admin":true},"type":"order.paid"}`), kind: 'forbidden-key', reason: /"__proto__"/ },
    { name: 'constructor key', data: json(`{"type":"order.paid","data":{"constructor":{"prototype":{}}}}`), kind: 'forbidden-key', reason: /"constructor"/ },
    { name: 'prototype key (nested in an array)', data: json(`{"data":{"lines":[{"prototype":1}]}}`), kind: 'forbidden-key', reason: /"prototype"/ },
    { name: 'oversize string', data: json(oversizeName), kind: 'schema', reason: /shippingAddress\.name: must be at most 200 characters/, issues: ['data.shippingAddress.name'] },
    { name: 'unknown type', data: json({ ...f.orderPaid(), type: 'order.refunded' }), kind: 'unknown-type', reason: /unknown event type "order\.refunded"; known types/ },
    { name: 'wrong version', data: json({ ...f.orderShipped(), version: 3 }), kind: 'unknown-version', reason: /unknown version 3 of event type "order\.shipped"; known versions: 1/ },
    { name: 'missing field', data: json({ ...paidRest, data: noCurrency }), kind: 'schema', reason: /data\.currency: is required/, issues: ['data.currency'] },
    { name: 'mistyped field', data: json(mistyped), kind: 'schema', reason: /data\.lines\.0\.quantity: must be an integer/, issues: ['data.lines.0.quantity'] },
    { name: 'total not matching lines', data: json(totalOff), kind: 'schema', reason: /data\.totalMinor: must equal the sum/, issues: ['data.totalMinor'] },
    { name: 'unknown extra field', data: json(extraField), kind: 'schema', reason: /extra: is not a known field/, issues: ['extra'] },
    { name: 'missing envelope fields', data: json({ version: 1, data: {} }), kind: 'envelope', reason: /id: is required; type: is required/, issues: ['id', 'type', 'occurredAt', 'source'] },
    { name: 'known type without its other envelope fields', data: json({ type: 'order.paid', version: 1 }), kind: 'schema', reason: /id: is required/, issues: ['id', 'occurredAt', 'source', 'data'] },
    { name: 'not a UUID id', data: json({ ...f.orderCancelled(), id: 'not-a-uuid' }), kind: 'schema', reason: /id: must be a UUID/, issues: ['id'] },
    { name: 'hops over limit', data: json({ ...f.orderPaid(), hops: 6 }), kind: 'hops-exceeded', reason: /hops 6 exceeds the limit of 5 \(loop guard/ },
    { name: 'invalid currency code', data: json({ ...f.orderPaid(), data: { ...f.orderPaid().data, currency: 'EURO' } }), kind: 'schema', reason: /data\.currency: must be an active ISO-4217/, issues: ['data.currency'] },
  ];
}
