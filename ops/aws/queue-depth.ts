/** Messages waiting in a queue by name (SQS API reference: GetQueueUrl, GetQueueAttributes ApproximateNumberOfMessages). */
import { GetQueueAttributesCommand, GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';

/** Depth of queue `name`; undefined when the queue does not exist. */
export async function queueDepth(sqs: SQSClient, name: string): Promise<number | undefined> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (error instanceof QueueDoesNotExist) return undefined;
    throw error;
  }
  if (url === undefined) return undefined;
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  const value = out.Attributes?.ApproximateNumberOfMessages;
  return value === undefined ? undefined : Number(value);
}
