import { startKinesalite } from '../kinesis/embedded';
const e = await startKinesalite();
console.log(e.endpoint);
setTimeout(() => e.stop(), 60_000);
