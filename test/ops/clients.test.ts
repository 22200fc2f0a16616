/** The ops CLI's clients: the re-put producer's Kinesis client has SDK retries off (the producer retries entries itself). */
import { describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../kinesis/client';
import { createOpsClients } from '../../ops/aws/clients';

describe('createOpsClients', () => {
  it('builds the re-put Kinesis client with maxAttempts 1 and the general one with SDK retries', async () => {
    const clients = createOpsClients({ region: 'eu-west-1', kinesisEndpoint: 'http://127.0.0.1:1' });
    expect(await clients.kinesisPut.config.maxAttempts()).toBe(1);
    expect(await clients.kinesis.config.maxAttempts()).toBe(3);
    expect(clients.kinesisPut).not.toBe(clients.kinesis);
    expect(await clients.kinesisPut.config.region()).toBe('eu-west-1');
    const endpoint = await clients.kinesisPut.config.endpoint!();
    expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).toBe('http://127.0.0.1:1');
  });

  it('uses an injected Kinesis client for re-puts too', () => {
    const kinesis = createKinesisClient({ endpoint: 'http://127.0.0.1:1' });
    const clients = createOpsClients({ region: 'eu-west-1' }, { kinesis });
    expect(clients.kinesisPut).toBe(kinesis);
  });
});
