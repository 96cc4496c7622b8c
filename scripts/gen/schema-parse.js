// lib/core/schema.ts (the one schema reader) for the generator, compiled in memory with the project's
// TypeScript: the generator runs before any build and must not need dist/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const file = path.resolve(__dirname, '../../lib/core/schema.ts');
const { outputText } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  fileName: file,
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
});
const mod = { exports: {} };
new Function('module', 'exports', 'require', outputText)(mod, mod.exports, require);
module.exports = mod.exports;
