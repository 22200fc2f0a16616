/**
 * The part of `@aws-sdk/client-lambda` order-review uses, as a module of its own so the invoker can
 * `import()` it lazily: a dynamic import of the package itself keeps every command of the client in the
 * chunk (a namespace import cannot be tree-shaken); importing these names through this file lets esbuild
 * drop the other commands and their schemas.
 */
export { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
