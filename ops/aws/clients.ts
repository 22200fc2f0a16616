/**
 * The AWS clients the ops CLI uses, built lazily (a command builds only what it calls) and
 * injectable: tests pass mocked or emulator-backed clients.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createKinesisClient, LOCAL_CREDENTIALS } from '../../kinesis/client';

export interface OpsClients {
  readonly kinesis: KinesisClient;
  /**
   * Kinesis for the producer's re-puts, SDK retries off (maxAttempts 1): the producer retries failed
   * entries itself, and SDK retries on top would resend whole PutRecords batches. An injected
   * `kinesis` client serves here too unless this one is injected as well.
   */
  readonly kinesisPut: KinesisClient;
  readonly lambda: LambdaClient;
  readonly sqs: SQSClient;
  readonly cloudwatch: CloudWatchClient;
  /** The consumers' idempotency tables (redrive: what already took effect). */
  readonly dynamodb: DynamoDBClient;
}

export interface ClientEndpoints {
  readonly region: string;
  /** One endpoint for every service (e.g. LocalStack), unless a per-service one is set. */
  readonly endpoint?: string | undefined;
  readonly kinesisEndpoint?: string | undefined;
  readonly lambdaEndpoint?: string | undefined;
  readonly dynamodbEndpoint?: string | undefined;
}

/** Clients for `endpoints`; any given in `overrides` are used as they are. */
export function createOpsClients(endpoints: ClientEndpoints, overrides: Partial<OpsClients> = {}): OpsClients {
  const cache: { -readonly [K in keyof OpsClients]?: OpsClients[K] } = { ...overrides };
  const common = (endpoint: string | undefined) => ({
    region: endpoints.region,
    ...(endpoint !== undefined ? { endpoint } : {}),
    // Emulators accept any credentials; AWS gets the default provider chain.
    ...(endpoint !== undefined && !process.env['AWS_ACCESS_KEY_ID'] ? { credentials: LOCAL_CREDENTIALS } : {}),
  });
  const kinesisOptions = () => {
    const endpoint = endpoints.kinesisEndpoint ?? endpoints.endpoint;
    return { region: endpoints.region, ...(endpoint !== undefined ? { endpoint } : {}) };
  };
  return {
    get kinesis() {
      return (cache.kinesis ??= createKinesisClient(kinesisOptions()));
    },
    get kinesisPut() {
      return (cache.kinesisPut ??= overrides.kinesis ?? createKinesisClient({ ...kinesisOptions(), maxAttempts: 1 }));
    },
    get lambda() {
      return (cache.lambda ??= new LambdaClient(common(endpoints.lambdaEndpoint ?? endpoints.endpoint)));
    },
    get sqs() {
      return (cache.sqs ??= new SQSClient(common(endpoints.endpoint)));
    },
    get cloudwatch() {
      return (cache.cloudwatch ??= new CloudWatchClient(common(endpoints.endpoint)));
    },
    get dynamodb() {
      return (cache.dynamodb ??= new DynamoDBClient(common(endpoints.dynamodbEndpoint ?? endpoints.endpoint)));
    },
  };
}
