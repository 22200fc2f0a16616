import { createFixtures } from '../schemas/fixtures';
const f = createFixtures({ seed: 1 });
for (const n of [1, 5, 8, 9, 10, 11]) console.log(n, JSON.stringify(f.orderPlaced({ lines: n })).length);
console.log('paid', JSON.stringify(f.orderPaid()).length);
