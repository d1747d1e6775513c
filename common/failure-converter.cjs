'use strict';
/**
 * Failure messages and stack traces go into an encoded-attributes payload (which the
 * payload codec then encrypts) instead of the Failure's plaintext fields.
 *
 * Loaded by path (`DataConverter.failureConverterPath`, see common/temporal.ts) twice: by
 * the worker with Node's own require() for activities and clients, and by the workflow
 * bundler, which compiles it into the workflow sandbox. Plain CommonJS so that Node can
 * require it without a TypeScript loader (tests, tsx, the compose image alike); it must
 * stay deterministic and import nothing but @temporalio/common.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
