/**
 * One deployed Lambda function of the pipeline (a consumer or a plain function): its esbuild bundle
 * zipped through a TerraformAsset, Node.js 22 on arm64, its own log group (retention, encrypted with
 * the stage key), Lambda's JSON log format with application and system log levels, X-Ray tracing as
 * the stage says, and its own execution role holding exactly the statements its work needs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import type { FunctionDefinition } from '../../pipeline';
import { BUNDLE_FILE } from '../bundle';
import { lambdaTrustPolicy, policyDocument, type PolicyStatement } from '../policy-document';

export const LAMBDA_RUNTIME = 'nodejs22.x';
export const LAMBDA_ARCHITECTURE = 'arm64';

export interface AwsLocation {
  account: string;
  region: string;
  partition: string;
}

/** How a stage runs its functions' logs and traces (stage file: logLevel, systemLogLevel, tracing). */
export interface FunctionObservability {
  /** Customer-managed key the log group is encrypted with. */
  logKmsKeyArn: string;
  /** Lambda ApplicationLogLevel (the pino level in Lambda's terms, so both filters agree). */
  applicationLogLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  systemLogLevel: 'DEBUG' | 'INFO' | 'WARN';
  tracing: 'Active' | 'PassThrough';
}

/** pino level (stage `logLevel`) to Lambda's ApplicationLogLevel; "silent" keeps only FATAL. */
export function applicationLogLevel(level: string): FunctionObservability['applicationLogLevel'] {
  const upper = level.toUpperCase();
  return (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const).find((l) => l === upper) ?? 'FATAL';
}

export interface PipelineFunctionProps {
  /** Deployed function name, e.g. `orders-prod-review-intake`. */
  functionName: string;
  definition: FunctionDefinition;
  /** Folder holding this function's bundle (`index.mjs` + source map), zipped as the deployment package. */
  bundlePath: string;
  environment: Record<string, string>;
  location: AwsLocation;
  /** Deployed names of the functions this one invokes (lambda:InvokeFunction on exactly those). */
  invokeTargets: string[];
  /** Statements beyond logs, metrics and invokes (stream read, queue send, KMS), added by the caller. */
  statements?: PolicyStatement[];
  observability: FunctionObservability;
}

export function functionArn(location: AwsLocation, functionName: string): string {
  return `arn:${location.partition}:lambda:${location.region}:${location.account}:function:${functionName}`;
}

export class PipelineFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly rolePolicy: IamRolePolicy;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const { definition, location } = props;
    const bundleFile = join(props.bundlePath, BUNDLE_FILE);
    if (!existsSync(bundleFile)) {
      throw new Error(`bundle of ${props.functionName} not found at ${bundleFile}: run \`npm run build:lambdas\` first (npm run synth does)`);
    }
    const asset = new TerraformAsset(this, 'bundle', { path: props.bundlePath, type: AssetType.ARCHIVE });

    // Created here, not by Lambda on first write, so retention is set and `terraform destroy` removes it.
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: definition.logRetentionDays,
      // Logs carry record keys and failure reasons: encrypted with the stage key, whose policy lets
      // CloudWatch Logs use it for this stage's log groups only (see StageKey).
      kmsKeyId: props.observability.logKmsKeyArn,
    });

    const statements: PolicyStatement[] = [
      {
        // The log group exists already, so no logs:CreateLogGroup; streams and events only in it.
        Sid: 'WriteOwnLogGroup',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `${this.logGroup.arn}:*`,
      },
      ...(props.statements ?? []),
    ];
    if (definition.metricsNamespace !== undefined) {
      statements.push({
        // cloudwatch:PutMetricData supports no resource-level permissions (Service Authorization Reference,
        // "Amazon CloudWatch"): Resource must be "*"; the cloudwatch:namespace condition confines it.
        Sid: 'PublishOwnMetricsNamespace',
        Effect: 'Allow',
        Action: ['cloudwatch:PutMetricData'],
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': definition.metricsNamespace } },
      });
    }
    if (props.observability.tracing === 'Active') {
      statements.push({
        // Lambda developer guide, "Visualize Lambda function invocations using AWS X-Ray": active tracing
        // needs xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level
        // permissions (Service Authorization Reference, "AWS X-Ray"), hence Resource "*".
        Sid: 'WriteXRayTraces',
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
    if (props.invokeTargets.length > 0) {
      statements.push({
        Sid: 'InvokeDownstreamFunctions',
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: props.invokeTargets.map((name) => functionArn(location, name)),
      });
    }

    this.role = new IamRole(this, 'role', {
      name: props.functionName,
      description: `Execution role of ${props.functionName} (least privilege, managed by cdktf)`,
      assumeRolePolicy: lambdaTrustPolicy(),
    });
    this.rolePolicy = new IamRolePolicy(this, 'policy', {
      name: 'least-privilege',
      role: this.role.name,
      policy: policyDocument(statements),
    });

    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      ...(definition.description !== undefined ? { description: definition.description } : {}),
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      memorySize: definition.memoryMb,
      timeout: definition.timeoutSeconds,
      ...(definition.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: definition.reservedConcurrency } : {}),
      environment: { variables: props.environment },
      // pino writes JSON lines: Lambda's JSON format keeps them as they are, adds its own (START, REPORT)
      // as JSON too, and filters both by level ("Configuring advanced logging controls for Lambda functions").
      loggingConfig: {
        logFormat: 'JSON',
        logGroup: this.logGroup.name,
        applicationLogLevel: props.observability.applicationLogLevel,
        systemLogLevel: props.observability.systemLogLevel,
      },
      tracingConfig: { mode: props.observability.tracing },
      // The role must hold its permissions before the first invocation, and the log group must exist.
      dependsOn: [this.logGroup, this.rolePolicy],
    });
  }
}
