import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/cuda runs on a GPU machine; its tests skip with a reason elsewhere.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
