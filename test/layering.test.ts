// The layers of lib/ (ARCHITECTURE.md), held by reading the imports: each folder may import only the
// folders its row allows, nothing imports the CLI, and no two files import each other's values in a cycle.
// Type-only imports are erased at compile time: they count for the direction, not for cycles.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startChild } from './helpers/child';

const LIB = path.resolve(__dirname, '../lib');
// What each folder may import besides itself. generated/ is core's (the op layer the schema gives).
const ALLOWED: Record<string, string[]> = {
  core: ['generated'],
  generated: ['core'],
  io: ['core', 'generated', 'nn/parameter'],
  optim: ['core', 'generated'],
  distributed: ['core'],
  cuda: ['core', 'generated', 'optim'], // amp's GradScaler steps an optimizer
  nn: ['core', 'generated', 'distributed'], // nn.parallel's DistributedDataParallel
  data: ['core', 'generated', 'nn', 'distributed'], // transforms are modules; DistributedSampler
  jit: ['core', 'io', 'nn'], // tracing takes a Module
  vision: ['core', 'generated', 'io'],
  models: ['core', 'generated', 'nn'],
  train: ['core', 'generated', 'nn', 'models', 'optim', 'data', 'io', 'cuda', 'jit', 'distributed'],
  cli: ['*'],
  index: ['*'],
};

type Edge = { from: string; to: string; typeOnly: boolean };
const files = (fs.readdirSync(LIB, { recursive: true, encoding: 'utf8' }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.split(path.sep).join('/'));
const folderOf = (f: string) => (f.includes('/') ? f.split('/')[0] : 'index');
function resolve(from: string, spec: string): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  return [`${base}.ts`, `${base}/index.ts`].find((c) => files.includes(c)) ?? `${base} (missing)`;
}
const edges: Edge[] = files.flatMap((f) =>
  [...fs.readFileSync(path.join(LIB, f), 'utf8').matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm)].map((m) => ({
    from: f,
    to: resolve(f, m[2]),
    typeOnly: Boolean(m[1]),
  })),
);

describe('the layers of lib/', () => {
  it('reads the imports of every file', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(edges.filter((e) => e.to.endsWith('(missing)'))).toEqual([]);
    expect(edges.filter((e) => folderOf(e.from) === 'nn' && folderOf(e.to) === 'core').length).toBeGreaterThan(50);
  });

  it('each folder imports only the folders below it', () => {
    const breaches = edges
      .filter(({ from, to }) => {
        const [a, b] = [folderOf(from), folderOf(to)];
        if (a === b) return false;
        const allowed = ALLOWED[a] ?? [];
        return !allowed.includes('*') && !allowed.includes(b) && !allowed.includes(to.replace(/\.ts$/, ''));
      })
      .map((e) => `${e.from} -> ${e.to}`);
    expect(breaches).toEqual([]);
    expect(Object.keys(ALLOWED)).toEqual(expect.arrayContaining([...new Set(files.map(folderOf))]));
  });

  it('nothing imports the CLI', () => {
    expect(edges.filter((e) => folderOf(e.to) === 'cli' && folderOf(e.from) !== 'cli')).toEqual([]);
  });

  it('no import cycles between files', () => {
    const graph = new Map<string, string[]>(files.map((f) => [f, []]));
    for (const e of edges) if (!e.typeOnly) graph.get(e.from)!.push(e.to);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('only the Tensor module and what it loads import the bare class (core/tensor-class.ts)', () => {
    const loaders = ['core/tensor.ts', 'core/surface.ts', 'core/ops.ts', 'core/dispatch.ts'];
    expect(edges.filter((e) => e.to === 'core/tensor-class.ts' && !e.typeOnly && !loaders.includes(e.from))).toEqual([]);
  });

  // No side-effect import: whichever file a program loads first, a Tensor it gets has the generated
  // methods (mul), the hand-bound ones (isSameSize, norm) and the x.real property.
  it.each(['core/creation.ts', 'core/tensor.ts', 'nn/functional/index.ts', 'io/safetensors.ts'])(
    'loading %s first gives a whole Tensor',
    async (entry) => {
      const script = `
      const { Tensor } = require(${JSON.stringify(path.join(LIB, 'core/tensor.ts'))});
      const methods = ['mul', 'addcmul_', 'isSameSize', 'norm'].map((m) => typeof Tensor.prototype[m]);
      const real = typeof Object.getOwnPropertyDescriptor(Tensor.prototype, 'real')?.get;
      process.stdout.write(JSON.stringify([...methods, real]));`;
      const r = await startChild(script, { entry });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual(['function', 'function', 'function', 'function', 'function']);
    },
  );
});
