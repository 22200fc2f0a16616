/**
 * `npm run localstack:deploy -- [--endpoint http://localhost:4566] [--stage local] [--region us-east-1]`
 *
 * Deploys the pipeline definition into a LocalStack you started yourself (with the Docker socket
 * mounted, so it can run Lambda functions), using the AWS SDK: no terraform needed. Prints the
 * deployed names as JSON.
 */
import '../cli/fail-cleanly';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli/explain-error';
import { createOpsClients } from '../ops/aws/clients';
import { pipeline } from '../pipeline';
import { createLogger } from '../telemetry/logger';
import { buildFunctionBundles } from './bundles';
import { deployPipeline } from './deploy-pipeline';

const HELP = `Usage: npm run localstack:deploy -- [options]

Deploys pipeline/pipeline.ts into a LocalStack you started yourself, with the AWS SDK (no
Terraform): the streams, one Lambda function per consumer and function (esbuild bundles), their
event source mappings with every setting of the definition, and the quarantine and on-failure
queues. Prints the deployed names as JSON.

Start LocalStack first, with the Docker socket mounted (it runs the functions in containers):
  docker run --rm -p 4566:4566 -v /var/run/docker.sock:/var/run/docker.sock localstack/localstack:4.14.0

Options:
  --endpoint <url>   LocalStack's endpoint (default http://localhost:4566)
  --stage <name>     stage part of every resource name (default local)
  --region <region>  default: AWS_REGION, else us-east-1
  --debug            stack traces on errors (also DEBUG=1)
  -h, --help         this text

Exit code: 0 deployed, 1 the deployment failed (e.g. no LocalStack at the endpoint), 2 bad usage.`;

function usage(message: string): never {
  throw new CliError(message, 'see `npm run localstack:deploy -- --help`', 2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      endpoint: { type: 'string', default: 'http://localhost:4566' },
      stage: { type: 'string', default: 'local' },
      region: { type: 'string', default: process.env['AWS_REGION'] ?? 'us-east-1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  usage((error as Error).message);
}

/** LocalStack answers GET /_localstack/health; anything else at the endpoint is not a LocalStack. */
async function requireLocalStack(endpoint: string): Promise<void> {
  let url: URL;
  try {
    url = new URL('/_localstack/health', endpoint);
  } catch {
    usage(`--endpoint must be a URL such as http://localhost:4566, got "${endpoint}"`);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? 'no answer within 5 s' : 'connection refused or unreachable';
    throw new CliError(
      `no LocalStack at ${endpoint} (${reason})`,
      'start one with Docker (see --help: docker run ... localstack/localstack:4.14.0), or pass --endpoint where yours listens',
    );
  }
  if (!response.ok) {
    throw new CliError(`${endpoint} is not a LocalStack: GET /_localstack/health answered HTTP ${response.status}`, 'pass --endpoint where LocalStack listens');
  }
}

if (values.help) {
  process.stdout.write(`${HELP}\n`);
} else {
  await requireLocalStack(values.endpoint);
  const logger = createLogger({ name: 'localstack-deploy' });
  const bundles = await buildFunctionBundles({
    definition: pipeline,
    projectRoot: join(import.meta.dirname, '..'),
    outDir: mkdtempSync(join(tmpdir(), 'localstack-bundles-')),
  });
  const deployed = await deployPipeline({
    definition: pipeline,
    stage: values.stage,
    region: values.region,
    clients: createOpsClients({ region: values.region, endpoint: values.endpoint }),
    bundles,
    logger,
  });
  process.stdout.write(`${JSON.stringify(deployed, null, 2)}\n`);
}
