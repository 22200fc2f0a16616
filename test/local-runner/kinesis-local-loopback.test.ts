/**
 * `--kinesis kinesis-local`: kinesis-mock has no authentication and hard-codes the wildcard address;
 * the runner binds it to 127.0.0.1 like kinesalite and the local Lambda endpoint. Checked from the
 * kernel's own table of listening sockets (/proc/net/tcp, /proc/net/tcp6), not by trying a connection.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startKinesisLocal } from '../../kinesis/embedded';

/** Local addresses (hex, as /proc shows them) of the sockets listening on `port`. */
async function listeningAddresses(port: number): Promise<string[]> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT"; state 0A is LISTEN.
      if (cols.length > 3 && cols[3] === '0A' && cols[1]!.endsWith(`:${hexPort}`)) out.push(cols[1]!.split(':')[0]!);
    }
  }
  return out;
}

describe.skipIf(process.platform !== 'linux')('kinesis-local listens on loopback only', () => {
  it('binds its plain port to 127.0.0.1, not to every interface', async () => {
    const engine = await startKinesisLocal();
    try {
      const port = Number(new URL(engine.endpoint).port);
      const addresses = await listeningAddresses(port);
      // 0100007F is 127.0.0.1 in /proc's little-endian hex; 00000000 (or :: in tcp6) would be every interface.
      expect(addresses).toEqual(['0100007F']);
    } finally {
      await engine.stop();
    }
  }, 90_000);
});
