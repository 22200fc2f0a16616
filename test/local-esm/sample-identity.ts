/** One mapping's identity (consumer, function, stream and its creation time) for the checkpoint-store unit tests. */
import type { MappingIdentity } from '../../local/esm';

export const IDENTITY: MappingIdentity = {
  consumerName: 'order-metrics',
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:order-metrics',
  streamName: 'orders',
  streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders',
  streamCreatedAt: '2024-04-01T00:00:00.000Z',
};
