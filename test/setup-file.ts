import { afterAll } from 'vitest';
import { terminateLeftovers } from './support/leftovers';

// After each test file: what its harnesses left running on the shared server is terminated
// (test/support/leftovers.ts says why).
afterAll(terminateLeftovers, 120_000);
