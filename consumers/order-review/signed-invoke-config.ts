/**
 * When order-review's review requests may go out as a signed HTTPS request (signed-invoke.ts) rather
 * than through `@aws-sdk/client-lambda`, read from the environment once per container. Plain code, no
 * imports: it is part of the function's init; the request code loads with the first review request.
 * The rules and why: signed-invoke.ts.
 */
type Env = Readonly<Record<string, string | undefined>>;

/** Regions of the standard `aws` partition (the SDK's partitions.json regionRegex for "aws"). */
const AWS_PARTITION_REGION = /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/;

export interface SignedInvokeConfig {
  readonly region: string;
  readonly endpoint: URL;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  readonly maxAttempts: number;
}

const TRUE = /^true$/i;

/** The configuration of the fast path, or undefined when the SDK must do the call (see the module comment). */
export function signedInvokeConfig(env: Env = process.env): SignedInvokeConfig | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID']?.trim();
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY']?.trim();
  const region = env['AWS_REGION']?.trim();
  if (!accessKeyId || !secretAccessKey || !region) return undefined;
  if (TRUE.test(env['AWS_USE_FIPS_ENDPOINT'] ?? '') || TRUE.test(env['AWS_USE_DUALSTACK_ENDPOINT'] ?? '')) return undefined;
  if (env['AWS_PROFILE'] || env['AWS_CONFIG_FILE']) return undefined;
  const ignoreConfigured = TRUE.test(env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] ?? '');
  const configured = ignoreConfigured ? undefined : env['AWS_ENDPOINT_URL_LAMBDA']?.trim() || env['AWS_ENDPOINT_URL']?.trim();
  let endpoint: URL;
  if (configured) {
    try {
      endpoint = new URL(configured);
    } catch {
      return undefined; // the SDK reports a malformed endpoint with its own message
    }
    if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') return undefined;
  } else {
    if (!AWS_PARTITION_REGION.test(region)) return undefined;
    endpoint = new URL(`https://lambda.${region}.amazonaws.com`);
  }
  const rawAttempts = env['AWS_MAX_ATTEMPTS']?.trim();
  const maxAttempts = rawAttempts && /^\d+$/.test(rawAttempts) && Number(rawAttempts) >= 1 ? Number(rawAttempts) : 3;
  const sessionToken = env['AWS_SESSION_TOKEN']?.trim();
  return { region, endpoint, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }, maxAttempts };
}

