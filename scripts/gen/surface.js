#!/usr/bin/env node
/**
 * Generates torchnode's tensor API from PyTorch's operator schema, as tch-rs generates its wrappers:
 * reads scripts/gen/native_functions.yaml (a pinned copy of torchgen/packaged/ATen/native/ from the
 * PyTorch named in its header) and writes lib/generated/:
 *   schema.ts  - per namespace (torch, Tensor, linalg, fft, special, nn) each Python name's overloads,
 *                as schema strings, in the order Python's argument parser tries them;
 *   torch.ts   - the torch.* functions, typed, with Python's signatures as their doc;
 *   methods.ts - the Tensor methods' types (installed by lib/core/surface.ts when lib/core/tensor.ts loads);
 *   linalg.ts, fft.ts, special.ts - those namespaces, typed.
 * Which operators Python binds, and under which name, follows tools/autograd/gen_python_functions.py:
 * `variants` (function → torch.*, method → Tensor), `python_module` (linalg, fft, special, nn), out=
 * overloads merged into their function, private (_name) and backward operators left out.
 *
 *   node scripts/gen/surface.js            # regenerate
 *   node scripts/gen/surface.js --check    # fail if lib/generated/ is not what the schema gives
 * To move to a newer PyTorch: copy its native_functions.yaml here, set PYTORCH_VERSION, regenerate.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const { parseSchema, camelCase, SUPPORTED_KINDS, NUMBERS_AS_TENSORS, TENSOR_VARARGS } = require('./schema-parse');

const PYTORCH_VERSION = '2.13.0';
const ROOT = path.resolve(__dirname, '../..');
const OUT = path.join(ROOT, 'lib', 'generated');

// Operators Python binds by hand or not at all (gen_python_functions.py's SKIP_PYTHON_BINDINGS, the part
// that concerns public names), and torchnode's own: indexing, to(), item(), the autograd entry points.
const SKIP = [
  /_backward$/,
  /_backward_(out|input|weight|bias)$/,
  /_forward$/,
  /_forward_out$/,
  /_jvp$/,
  /^(size|stride|sym_.*|is_leaf|output_nr|data|set_data|requires_grad_|retains_grad|set_|item|to|copy|copy_)$/,
  /^(index|index_out|slice|tensor|contiguous|alias|is_cuda|is_sparse|is_sparse_csr|numpy_T|matrix_H|mT|mH)$/,
  /^(nbytes|itemsize|lift.*|normal_functional|replace_|range|fill|unique_dim_consecutive|.*_overrideable)$/,
  /^(retain_grad|backward|is_same_size|chalf|resize_as_sparse_|nonzero_numpy)$/,
];
// Python's own signatures for these are hand-written variants with Scalar operands hidden behind the
// Tensor ones (a number is taken as a tensor): gen_python_functions.py SKIP_PYTHON_BINDINGS_SIGNATURES.
const SKIP_SIGNATURES = new Set([
  'add.Scalar',
  'add_.Scalar',
  'sub.Scalar',
  'sub_.Scalar',
  'mul.Scalar',
  'mul_.Scalar',
  'div.Scalar',
  'div_.Scalar',
  'div.Scalar_mode',
  'div_.Scalar_mode',
]);
// Namespaces Python puts function variants in (python_module), with the prefix their names carry.
const MODULES = { linalg: 'linalg_', fft: 'fft_', special: 'special_', nn: '' };
// Left out on purpose (the coverage test lists them): sparse and nested tensors are not in torchnode.
const LEFT_OUT_MODULES = new Set(['sparse', 'nested']);

// Kinds of tensor torchnode does not have: their operators are left out (the coverage test lists them).
const LEFT_OUT = [
  [
    /sparse|coalesce|^(indices|values|crow_indices|col_indices|ccol_indices|row_indices|sspaddmm|smm|hspmm|saddmm|dense_dim|sparse_dim|to_dense|to_dense_backward|spmm|dsmm|hsmm)$/,
    'sparse tensors',
  ],
  [/^(q_|quantize|dequantize|int_repr|fake_quantize|qscheme|fbgemm|quantized_)/, 'quantized tensors'],
  [/^(rename|refine_names|align_to|align_as|names)$/, 'named tensors'],
  [/^(nested_|to_padded_tensor)/, 'nested tensors'],
  [/mkldnn|^(miopen|cudnn_|native_channel_shuffle|is_vulkan_available)/, 'backend-internal kernels'],
  [/^chalf$/, 'complex32 (ComplexHalf), which torchnode has no dtype for'],
  [/^sym_constrain_range/, "symbolic shapes (torch.export's tracing)"],
  [/^from_numpy$/, 'NumPy interop (JS has no NumPy: torch.tensor, torch.asarray and torch.frombuffer take TypedArrays)'],
];

function leftOutReason(name) {
  return LEFT_OUT.find(([re]) => re.test(name))?.[1];
}

function skipName(name) {
  return name.startsWith('_') || SKIP.some((re) => re.test(name)) || leftOutReason(name) !== undefined;
}

/** { namespace: { pythonName: [schema strings] } } from the yaml. */
function collect(entries) {
  const spaces = { torch: {}, tensor: {}, linalg: {}, fft: {}, special: {}, nn: {} };
  const skipped = [];
  for (const entry of entries) {
    const schema = parseSchema(entry.func);
    const base = schema.name;
    if (skipName(base) || SKIP_SIGNATURES.has(`${base}.${schema.overload}`)) continue;
    if (LEFT_OUT_MODULES.has(entry.python_module)) continue;
    const unsupported = schema.params.find((p) => !SUPPORTED_KINDS.has(p.kind)) ?? schema.returns.find((r) => !SUPPORTED_KINDS.has(r.kind));
    if (unsupported) {
      skipped.push(`${base}.${schema.overload}: ${unsupported.kind}`);
      continue;
    }
    const variants = String(entry.variants ?? 'function')
      .split(',')
      .map((s) => s.trim());
    const module = entry.python_module;
    const isOut = schema.params.some((p) => p.kwOnly && p.write);
    const add = (space, name) => (spaces[space][name] ??= []).push(entry.func);
    if (module) {
      const prefix = MODULES[module];
      if (prefix === undefined) throw new Error(`unknown python_module ${module} (${entry.func})`);
      if (variants.includes('function')) add(module, base.startsWith(prefix) ? base.slice(prefix.length) : base);
      continue;
    }
    if (variants.includes('function')) add('torch', base);
    if (variants.includes('method') && !isOut && schema.params.some((p) => p.name === 'self')) add('tensor', base);
  }
  // A name whose every overload is out= has no Python function of its own (Python merges it into the
  // functional overload's out=).
  for (const space of Object.values(spaces)) {
    for (const [name, list] of Object.entries(space)) {
      const functional = list.filter((f) => !parseSchema(f).params.some((p) => p.kwOnly && p.write));
      if (functional.length === 0) delete space[name];
      else space[name] = [...functional, ...list.filter((f) => !functional.includes(f))];
    }
  }
  return { spaces, skipped };
}

// ---- TypeScript ----

const RESERVED = new Set(['var', 'new', 'delete', 'in', 'default', 'function', 'class', 'import', 'export', 'return', 'with']);

function tsType(p, { numbers } = {}) {
  const base = {
    Tensor: numbers ? 'Tensor | Scalar' : 'Tensor',
    int: 'number | bigint',
    float: 'number',
    bool: 'boolean',
    Scalar: 'Scalar',
    str: 'string',
    ScalarType: 'Dtype',
    Device: 'string',
    Layout: 'Layout',
    MemoryFormat: 'MemoryFormat',
    Generator: 'null',
    Stream: 'StreamLike',
    'Tensor[]': 'Tensor[]',
    'Tensor?[]': '(Tensor | null)[]',
    'int[]': p.size ? 'number | number[]' : 'number[]',
    'float[]': 'number[]',
    'bool[]': 'boolean[]',
  }[p.kind];
  return p.optional ? `${base} | null` : base;
}

function returnType(schema, { method }) {
  const rs = schema.returns;
  if (rs.length === 0) return 'void';
  const one = (r) => (r.write && method ? 'this' : tsType({ kind: r.kind, optional: false }));
  if (rs.length === 1) return one(rs[0]);
  const tuple = `[${rs.map(one).join(', ')}]`;
  const named = rs.every((r) => r.name) ? ` & { ${rs.map((r) => `readonly ${camelCase(r.name)}: ${one(r)}`).join('; ')} }` : '';
  return tuple + named;
}

function pythonDoc(space, name, schema) {
  const params = schema.params.map(
    (p) =>
      `${p.kwOnly && !schema.params[schema.params.indexOf(p) - 1]?.kwOnly ? '*, ' : ''}${p.type} ${p.name}${p.default !== undefined ? `=${p.default}` : ''}`,
  );
  return `${name}(${params.join(', ')})`;
}

/**
 * The TypeScript overloads of one schema: the positional parameters (a required prefix, then any number
 * of the optional ones), then an options object that may name any parameter, as Python's keywords can;
 * and the all-keywords form. A function whose name has out= overloads takes `out` in its options.
 */
function signatures(schema, { method, outs }) {
  const positional = schema.params.filter((p) => !p.kwOnly && !(method && p.name === 'self'));
  const keywords = schema.params.filter((p) => !(method && p.name === 'self'));
  const opt = (p) => p.default !== undefined; // Python: `Tensor? weight` with no default must be given (null is fine)
  const numbers = NUMBERS_AS_TENSORS.has(schema.name);
  const extra = [schema.factory ? 'requiresGrad?: boolean' : '', !method && outs ? `out?: ${outs}` : ''].filter(Boolean);
  const optsType = `{ ${[...keywords.map((p) => `${jsParam(p)}?: ${tsType(p, { numbers })}`), ...extra].join('; ')} }`;
  const ret = returnType(schema, { method });
  let required = positional.length; // where the trailing run of omissible parameters starts
  while (required > 0 && opt(positional[required - 1])) required--;
  const kwRequired = keywords.some((p) => p.kwOnly && !opt(p));
  if (kwRequired) required = positional.length;
  const args = positional.map((p) => `${jsParam(p)}: ${tsType(p, { numbers })}`);
  const out = [];
  for (let k = required; k <= positional.length; k++) {
    out.push(`(${[...args.slice(0, k), `options${kwRequired ? '' : '?'}: ${optsType}`].join(', ')}): ${ret}`);
  }
  if (required > 0) out.push(`(options: ${optsType}): ${ret}`);
  // Python's varargs: x.view(2, 3) for view(int[] size), torch.broadcastTensors(a, b) for (Tensor[] tensors)
  if (positional.length === 1 && positional[0].kind === 'int[]') {
    out.push(`(...${jsParam(positional[0])}: number[]): ${ret}`);
    if (keywords.length > 1 || extra.length) out.push(`(...args: [...${jsParam(positional[0])}: number[], options: ${optsType}]): ${ret}`); // torch.zeros(2, 3, {dtype})
  }
  if (positional.length === 1 && positional[0].kind === 'Tensor[]' && TENSOR_VARARGS.has(schema.name))
    out.push(`(...${jsParam(positional[0])}: Tensor[]): ${ret}`);
  return out;
}

/** The type of out= for a name's out overloads (one tensor, or a tuple of them), if it has any. */
function outType(schemas) {
  const outs = schemas.map((s) => s.params.filter((p) => p.kwOnly && p.write)).find((o) => o.length > 0);
  if (!outs) return undefined;
  return outs.length === 1 ? 'Tensor' : `[${outs.map(() => 'Tensor').join(', ')}]`;
}

function jsParam(p) {
  const n = camelCase(p.name === 'self' ? 'input' : p.name);
  return RESERVED.has(n) ? `${n}_` : n;
}

function header(what) {
  return `// Generated by scripts/gen/surface.js from PyTorch ${PYTORCH_VERSION}'s native_functions.yaml: ${what}.\n// Do not edit; regenerate with \`node scripts/gen/surface.js\`.\n`;
}

const TYPE_IMPORTS = `import type { Tensor } from '../core/tensor';\nimport type { Dtype } from '../core/dtype';\nimport type { Scalar, Layout, MemoryFormat, StreamLike } from '../core/dispatch';\n`;

function docFor(space, name, list) {
  const shown = list.map((f) => parseSchema(f)).filter((s) => !s.params.some((p) => p.kwOnly && p.write));
  const prefix = space === 'tensor' ? 'Tensor.' : space === 'torch' ? 'torch.' : `torch.${space}.`;
  return `  /** PyTorch's \`${prefix}${name}\`: ${shown.map((s) => `\`${pythonDoc(space, name, s)}\``).join(', ')} */\n`;
}

function members(space, names, spaceList, { method }) {
  let text = '';
  for (const name of names) {
    const js = camelCase(name);
    const schemas = spaceList[name].map(parseSchema);
    const outs = outType(schemas);
    const sigs = schemas.filter((s) => !s.params.some((p) => p.kwOnly && p.write)).flatMap((s) => signatures(s, { method, outs }));
    text += docFor(space, name, spaceList[name]);
    text += [...new Set(sigs)].map((s) => `  ${js}${s};\n`).join('');
  }
  return text;
}

// Names torchnode binds by hand, read from the source so the generated declarations never contradict
// them: lib/core/tensor-class.ts's Tensor members (its own calling convention and fast paths) and methods other
// lib/*.ts files set on Tensor.prototype (norm, as Python's own is Python code), and what
// lib/index.ts exports from hand-written modules (creation.ts's factories, ops.ts's einsum, …).
function handWritten() {
  const read = (f) => fs.readFileSync(path.join(ROOT, 'lib', f), 'utf8');
  const tensor = read('core/tensor-class.ts');
  const body = tensor.slice(tensor.indexOf('export class Tensor {'), tensor.indexOf('\n}\n', tensor.indexOf('export class Tensor {')));
  const methods = new Set([...body.matchAll(/^ {2}(?:get |set |static )?(\w+)\s*[(<]/gm)].map((m) => m[1]));
  const sources = fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true }).filter((n) => n.endsWith('.ts') && !n.startsWith('generated'));
  for (const f of sources) {
    for (const m of read(f).matchAll(/^\s*Tensor\.prototype\.(\w+) =/gm)) methods.add(m[1]);
  }
  const functions = new Set();
  const exportsOf = (text) => {
    for (const m of text.matchAll(/^export (?:function|const|class) (\w+)/gm)) functions.add(m[1]);
    for (const m of text.matchAll(/^export const .*$/gm)) for (const n of m[0].matchAll(/(?:^export const |, )(\w+) =/g)) functions.add(n[1]);
    for (const m of text.matchAll(/^export \{([^}]*)\}/gm))
      for (const n of m[1].split(','))
        functions.add(
          n
            .trim()
            .split(/\s+as\s+/)
            .pop(),
        );
  };
  const index = read('index.ts');
  exportsOf(index);
  for (const m of index.matchAll(/^export \* from '\.\/([\w/]+)';/gm))
    if (!m[1].startsWith('generated/') && fs.existsSync(path.join(ROOT, 'lib', `${m[1]}.ts`))) exportsOf(read(`${m[1]}.ts`));
  return { methods, functions };
}

function generate() {
  const yamlText = fs.readFileSync(path.join(__dirname, 'native_functions.yaml'), 'utf8');
  const entries = YAML.parse(yamlText).filter((e) => e && e.func);
  const { spaces, skipped } = collect(entries);
  const files = {};
  const sorted = (o) => Object.keys(o).sort();

  let schema = header('every overload Python binds, by namespace and Python name');
  schema += `/** Each Python name's overloads as ATen schema strings (aten:: implied), in the order they are tried. */\nexport type SchemaTable = Readonly<Record<string, readonly string[]>>;\n`;
  for (const space of Object.keys(spaces)) {
    schema += `\nexport const ${space.toUpperCase()}: SchemaTable = {\n`;
    for (const name of sorted(spaces[space]))
      schema += `  ${JSON.stringify(name)}: [\n${spaces[space][name].map((f) => `    ${JSON.stringify(f)},\n`).join('')}  ],\n`;
    schema += '};\n';
  }
  files['schema.ts'] = schema;

  const hand = handWritten();
  const generatedMethods = sorted(spaces.tensor).filter((n) => !hand.methods.has(camelCase(n)));
  files['methods.ts'] = `${header('the Tensor methods, typed')}${TYPE_IMPORTS}
/** Tensor methods generated from the schema (lib/core/surface.ts installs them; lib/core/tensor-class.ts's own come first). */
export interface GeneratedTensorMethods {
${members('tensor', generatedMethods, spaces.tensor, { method: true })}}
`;
  for (const space of ['torch', 'linalg', 'fft', 'special', 'nn']) {
    const iface = `${space[0].toUpperCase()}${space.slice(1)}Functions`;
    files[`${space}.ts`] = `${header(space === 'torch' ? 'the torch.* functions, typed' : `torch.${space}, typed`)}${TYPE_IMPORTS}
/** ${space === 'torch' ? 'torch.*' : `torch.${space}.*`} functions generated from the schema. */
export interface ${iface} {
${members(space, sorted(spaces[space]), spaces[space], { method: false })}}
`;
  }
  // torch.* as named exports, but for the names hand-written modules export.
  const exported = sorted(spaces.torch)
    .map(camelCase)
    .filter((n) => !hand.functions.has(n));
  files['torch.ts'] += `\nconst f: TorchFunctions = torchFunctions;\n${exported
    .map((n) => (RESERVED.has(n) ? `const ${n}_ = f.${n};\nexport { ${n}_ as ${n} };\n` : `export const ${n} = f.${n};\n`))
    .join('')}`;
  files['torch.ts'] = files['torch.ts'].replace(TYPE_IMPORTS, `${TYPE_IMPORTS}import { torchFunctions } from '../core/surface';\n`);
  files['skipped.txt'] =
    `${skipped.length} overloads use types torchnode does not pass (named tensors' Dimname, Storage, complex numbers, lists of Scalars):\n${skipped.join('\n')}\n`;
  return files;
}

function main() {
  const files = generate();
  const check = process.argv.includes('--check');
  let stale = 0;
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(OUT, name);
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (old === text) continue;
    if (check) {
      console.error(`lib/generated/${name} is not what scripts/gen/surface.js makes: run node scripts/gen/surface.js`);
      stale++;
    } else {
      fs.writeFileSync(file, text);
      console.log(`wrote lib/generated/${name}`);
    }
  }
  if (stale) process.exit(1);
}

/** Every name the pinned schema has, bound or not, as '<space>.<python name>' (space: torch, Tensor, linalg…). */
function pinnedNames() {
  const entries = YAML.parse(fs.readFileSync(path.join(__dirname, 'native_functions.yaml'), 'utf8')).filter((e) => e && e.func);
  const names = new Set();
  for (const entry of entries) {
    const base = parseSchema(entry.func).name;
    const variants = String(entry.variants ?? 'function')
      .split(',')
      .map((v) => v.trim());
    const module = entry.python_module;
    const prefix = MODULES[module] ?? '';
    if (variants.includes('function'))
      names.add(module ? `${module}.${base.startsWith(prefix) ? base.slice(prefix.length) : base}` : `torch.${base}`);
    if (variants.includes('method')) names.add(`Tensor.${base}`);
  }
  return names;
}

if (require.main === module) main();
module.exports = { generate, collect, leftOutReason, pinnedNames, PYTORCH_VERSION };
