import { Sandbox } from '../local/lambda/sandbox';
const t = performance.now();
const boxes = Array.from({ length: Number(process.argv[2] ?? 1) }, () => new Sandbox({ config: { entry: '/tmp/e2e-view/.build/order-metrics/index.mjs', functionName: 'x', functionVersion: '$LATEST', memoryLimitInMB: 256, logGroupName: 'g', logStreamName: 's' }, childScript: '/tmp/e2e-view/.build/_sandbox/sandbox-child.mjs', env: { PATH: process.env.PATH!, CONSUMER_NAME: 'x', LOCAL_DATA_DIR: '/tmp/x' }, timeoutMs: 5000, onLine: (l) => console.log(l) }));
console.log(await Promise.all(boxes.map((b) => b.init())), performance.now() - t);
await Promise.all(boxes.map((b) => b.stop()));
