import { Writable } from 'node:stream';
import { RecordItem } from '../consumers/runtime/record-item';
import { createLogger } from '../telemetry/logger';
const log = createLogger({ name: 'x', destination: new Writable({ write: (_a, _b, d) => d() }) });
const recs = Array.from({ length: 10000 }, (_, i) => ({ kinesis: { data: 'eyJ', sequenceNumber: String(i), partitionKey: 'k' + i, approximateArrivalTimestamp: 1 }, eventID: 'shardId-000000000000:' + i, eventSourceARN: 'arn' }));
const run = (name: string, body: () => unknown) => { const ts: number[] = []; for (let r = 0; r < 25; r++) { const c0 = performance.now(); body(); ts.push(performance.now() - c0); } ts.sort((a, b) => a - b); console.log(name.padEnd(12), ts[12]!.toFixed(2), 'ms/10k'); };
class Small { status = 0; constructor(readonly source: unknown, readonly sequenceNumber: string, readonly partitionKey: string) {} }
run('items', () => { const out = []; for (let i = 0; i < recs.length; i++) { const r = recs[i]!; out.push(new RecordItem(r as never, i, r.kinesis.sequenceNumber, undefined, r.kinesis.partitionKey, undefined, 's', 'arn', 1, undefined, log)); } return out; });
run('small', () => { const out = []; for (let i = 0; i < recs.length; i++) { const r = recs[i]!; out.push(new Small(r, r.kinesis.sequenceNumber, r.kinesis.partitionKey)); } return out; });
run('literal', () => { const out = []; for (let i = 0; i < recs.length; i++) { const r = recs[i]!; out.push({ source: r, seq: r.kinesis.sequenceNumber, pk: r.kinesis.partitionKey, status: 0 }); } return out; });
