/** SDK clients for a LocalStack (or any AWS-compatible) endpoint, over HTTP/1.1 as emulators expect. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createKinesisClient, LOCAL_CREDENTIALS } from '../kinesis/client';
import type { DeployClients } from './deploy-pipeline';

export interface EndpointClients extends DeployClients {
  cloudwatch: CloudWatchClient;
}

export function createEndpointClients(endpoint: string, region: string): EndpointClients {
  const common = { endpoint, region, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() };
  return {
    kinesis: createKinesisClient({ endpoint, region, credentials: LOCAL_CREDENTIALS }),
    lambda: new LambdaClient(common),
    sqs: new SQSClient(common),
    cloudwatch: new CloudWatchClient(common),
  };
}
