/**
 * What every subcommand works on: AWS (a stage of the deployed pipeline, names from the pipeline
 * definition) or the local runner (its data folder and runner.json endpoints).
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { defaultRegion } from '../kinesis/client';
import { pipeline as defaultPipeline, type ConsumerDefinition, type PipelineDefinition } from '../pipeline';
import { createOpsClients, type OpsClients } from './aws/clients';
import { UsageError, type OpsIo } from './io';
import { readRunnerInfo, type RunnerInfo } from './local/runner-info';
import { consumerResourceNames, streamNameFromArn, streamResourceName } from './naming';

/** The options every subcommand accepts (node:util parseArgs config). */
export const GLOBAL_OPTIONS = {
  stage: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  local: { type: 'boolean' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const GLOBAL_HELP = `Global options:
  --stage NAME       deployed stage (default: env OPS_STAGE, else "dev"); names are <pipeline>-<stage>-<resource>
  --region REGION    AWS region (default: env AWS_REGION, else us-east-1)
  --endpoint URL     endpoint override for Kinesis, Lambda, SQS and CloudWatch (e.g. LocalStack)
  --local            work on the local runner (npm start): its data folder and runner.json endpoints
  --data-dir DIR     the local data folder (default: .data in the project root)
  -h, --help         this help`;

export interface GlobalValues {
  stage?: string | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  local?: boolean | undefined;
  'data-dir'?: string | undefined;
}

/** Dependencies a caller (the CLI, a test) hands to commands. */
export interface OpsEnvironment {
  readonly io: OpsIo;
  /** Clients to use instead of building them (tests). */
  readonly clients?: Partial<OpsClients>;
  readonly definition?: PipelineDefinition;
}

export interface OpsContext {
  readonly target: 'aws' | 'local';
  readonly stage: string;
  readonly region: string;
  readonly definition: PipelineDefinition;
  readonly dataDir: string;
  /** runner.json of the local runner (local target only). */
  readonly runner?: RunnerInfo;
  readonly clients: OpsClients;
  readonly io: OpsIo;
}

export interface ConsumerTarget {
  readonly name: string;
  readonly definition: ConsumerDefinition;
  /** Function name or ARN to invoke. */
  readonly functionName: string;
  readonly streamName: string;
  readonly onFailureQueueName: string;
  readonly quarantineQueueName: string;
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export function defaultDataDir(): string {
  return resolve(PROJECT_ROOT, '.data');
}

export async function createContext(values: GlobalValues, env: OpsEnvironment, options: { needRunner?: boolean } = {}): Promise<OpsContext> {
  const definition = env.definition ?? defaultPipeline;
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  const stage = values.stage ?? process.env['OPS_STAGE'] ?? 'dev';
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) throw new UsageError(`--stage "${stage}" is not a stage name (lower-case letters, digits, "-")`);
  if (values.local) {
    if (values.endpoint !== undefined) throw new UsageError('--endpoint and --local exclude each other: --local takes the endpoints from runner.json');
    const runner = options.needRunner === false ? undefined : await readRunnerInfo(dataDir);
    const region = values.region ?? runner?.region ?? defaultRegion();
    return {
      target: 'local',
      stage: 'local',
      region,
      definition,
      dataDir,
      ...(runner ? { runner } : {}),
      clients: createOpsClients(
        {
          region,
          kinesisEndpoint: runner?.kinesisEndpoint,
          lambdaEndpoint: runner?.lambdaEndpoint,
          dynamodbEndpoint: typeof runner?.['dynamodbEndpoint'] === 'string' ? runner['dynamodbEndpoint'] : undefined,
        },
        env.clients,
      ),
      io: env.io,
    };
  }
  const region = values.region ?? defaultRegion();
  return {
    target: 'aws',
    stage,
    region,
    definition,
    dataDir,
    clients: createOpsClients({ region, endpoint: values.endpoint }, env.clients),
    io: env.io,
  };
}

export function resolveConsumer(ctx: OpsContext, name: string | undefined): ConsumerTarget {
  const names = Object.keys(ctx.definition.consumers);
  if (name === undefined) throw new UsageError(`name a consumer: ${names.join(', ')}`);
  const definition = ctx.definition.consumers[name];
  if (!definition) throw new UsageError(`unknown consumer "${name}"; consumers: ${names.join(', ')}`);
  const names_ = consumerResourceNames(ctx.definition, ctx.stage, name);
  if (ctx.target === 'local') {
    const runnerConsumer = ctx.runner?.consumers[name];
    const streamArn =
      (typeof runnerConsumer?.['streamArn'] === 'string' ? runnerConsumer['streamArn'] : undefined) ?? ctx.runner?.streams[definition.stream]?.arn;
    return {
      ...names_,
      name,
      definition,
      functionName: runnerConsumer?.functionArn ?? name,
      streamName: streamArn !== undefined ? streamNameFromArn(streamArn) : definition.stream,
    };
  }
  return { ...names_, name, definition };
}

/** Deployed (or local) name of a stream of the definition. */
export function resolveStreamName(ctx: OpsContext, stream: string): string {
  if (ctx.target === 'local') {
    const arn = ctx.runner?.streams[stream]?.arn;
    if (arn !== undefined) return streamNameFromArn(arn);
    if (!(stream in ctx.definition.streams)) throw new UsageError(`unknown stream "${stream}"; streams: ${Object.keys(ctx.definition.streams).join(', ')}`);
    return stream;
  }
  try {
    return streamResourceName(ctx.definition, ctx.stage, stream);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
