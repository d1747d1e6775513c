import tseslint from 'typescript-eslint';

// Node built-ins and I/O libraries that workflow code must never reach: workflows are
// replayed and must be deterministic (no clock, no randomness, no I/O of their own).
const forbiddenInWorkflows = {
  patterns: [
    { group: ['node:*'], message: 'workflow code is deterministic: no Node modules (use an activity)' },
    {
      group: ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'worker_threads', 'timers', 'util'],
      message: 'workflow code is deterministic: no Node modules (use an activity)',
    },
    { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'], message: 'workflows use @temporalio/workflow only' },
    { group: ['express', 'pino', 'jose', 'date-holidays', 'luxon', '**/activities', '**/activities/**', '**/api/**', '**/common/**'], message: 'not in workflow code: call an activity', allowTypeImports: true },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'tools/**', 'dist/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', forbiddenInWorkflows],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'use sleep() or condition() from @temporalio/workflow' }, { name: 'setInterval', message: 'use sleep() from @temporalio/workflow' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'workflow code has no randomness of its own (uuid4() from @temporalio/workflow is deterministic)' }],
    },
  },
);
