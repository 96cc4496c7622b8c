#!/usr/bin/env node
// The linters `npm test` runs first: ESLint (eslint.config.mjs) and Prettier's check (.prettierrc.json)
// over lib/, test/ and scripts/, and clang-format's check (.clang-format) over native/ (not third_party/).
// `node scripts/lint.js --fix` rewrites what the three can fix.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const fix = process.argv.includes('--fix');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);
const native = fs
  .readdirSync(path.join(ROOT, 'native'), { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.(cc|h)$/.test(f) && !f.startsWith('third_party'))
  .map((f) => path.join('native', f));

const checks = [
  ['eslint', [...(fix ? ['--fix'] : []), 'lib', 'test', 'scripts']],
  ['prettier', [fix ? '--write' : '--check', '--log-level', 'warn', 'lib', 'test', 'scripts']],
  ['clang-format', fix ? ['-i', ...native] : ['--dry-run', '--Werror', ...native]],
];
let failed = 0;
for (const [tool, args] of checks) {
  const r = spawnSync(bin(tool), args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`lint: ${tool} found problems${fix ? '' : ' (node scripts/lint.js --fix fixes formatting)'}`);
  }
}
process.exitCode = failed ? 1 : 0;
