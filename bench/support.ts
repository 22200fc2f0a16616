/** Shared by the benchmarks: kinesalite in a child process, so process.cpuUsage() measures the client side alone. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** kinesalite in a child process on a free port. */
export async function startKinesaliteProcess(): Promise<EmulatorProcess> {
  const require = createRequire(import.meta.url);
  const dir = dirname(dirname(require.resolve('kinesalite/package.json')));
  const script =
    "const k=require('kinesalite')({createStreamMs:10,shardLimit:100});" +
    "k.listen(0,'127.0.0.1',()=>process.stdout.write(String(k.address().port)+'\\n'));";
  const child = spawn(process.execPath, ['-e', script], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim())));
    child.once('exit', (code) => reject(new Error(`kinesalite exited ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    child,
    stop: async () => {
      child.kill();
      await new Promise((r) => child.once('exit', r));
    },
  };
}
