/**
 * `npm run localstack:deploy -- [--endpoint http://localhost:4566] [--stage local] [--region us-east-1]`
 *
 * Deploys the pipeline definition into a LocalStack you started yourself (with the Docker socket
 * mounted, so it can run Lambda functions), using the AWS SDK: no terraform needed. Prints the
 * deployed names as JSON.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createOpsClients } from '../ops/aws/clients';
import { pipeline } from '../pipeline';
import { createLogger } from '../telemetry/logger';
import { buildFunctionBundles } from './bundles';
import { deployPipeline } from './deploy-pipeline';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string', default: 'http://localhost:4566' },
    stage: { type: 'string', default: 'local' },
    region: { type: 'string', default: process.env['AWS_REGION'] ?? 'us-east-1' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write('usage: npm run localstack:deploy -- [--endpoint URL] [--stage NAME] [--region REGION]\n');
} else {
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
