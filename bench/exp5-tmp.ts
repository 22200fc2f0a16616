import { createFixtures } from '../schemas/fixtures';
import { orderPlacedV1 } from '../schemas/index';
const f = createFixtures({ seed: 1 });
const texts = Array.from({ length: 10000 }, () => JSON.stringify(f.orderPlaced({ lines: 10 })));
const gc = (globalThis as { gc: () => void }).gc;
function measure(name: string, keep: (t: string) => string) {
  gc(); const before = process.memoryUsage().heapUsed;
  const kept = texts.map((t) => keep(t));
  gc(); const after = process.memoryUsage().heapUsed;
  console.log(name.padEnd(20), ((after - before) / 1048576).toFixed(2), 'MB retained for', kept.length, 'ids');
}
measure('json id', (t) => (JSON.parse(t) as { id: string }).id);
measure('zod id', (t) => (orderPlacedV1.schema.parse(JSON.parse(t)) as { id: string }).id);
measure('copied id', (t) => (' ' + (JSON.parse(t) as { id: string }).id).slice(1));
measure('orderId', (t) => (JSON.parse(t) as { data: { orderId: string } }).data.orderId);
