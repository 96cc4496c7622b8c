// torch.viz.makeDot against Python: the same computation's autograd graph, walked through
// grad_fn.next_functions in Python as torchviz's make_dot walks it, has the same nodes (Python's class
// names), the same edges and the same leaves (parameter names and shapes); the DOT text and the SVG
// that Graphviz (WebAssembly) lays out from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import * as torch from '../lib/index';
import { PyTorch } from './helpers/pytorch';

let py: PyTorch;
beforeAll(async () => {
  py = await PyTorch.start();
}, 120_000);
afterAll(() => py?.close());

interface PyWalk {
  names: string[];
  variables: (string | null)[];
  shapes: (number[] | null)[];
  edges: [number, number][];
}

// make_dot's depth-first walk from y.grad_fn, each node once, None next functions left out.
const WALK = `
params = {id(p): n for n, p in m.named_parameters()}
index, order, edges = {}, [], []
def visit(fn):
    index[fn] = len(order)
    order.append(fn)
    stack.append([fn, 0])
stack = []
visit(y.grad_fn)
while stack:
    fn, k = stack[-1]
    if k == len(fn.next_functions):
        stack.pop()
        continue
    stack[-1][1] += 1
    child = fn.next_functions[k][0]
    if child is None:
        continue
    if child not in index:
        visit(child)
    edges.append([index[child], index[fn]])
out = {
    'names': [type(f).__name__ for f in order],
    'variables': [params.get(id(f.variable), '') if hasattr(f, 'variable') else None for f in order],
    'shapes': [list(f.variable.shape) if hasattr(f, 'variable') else None for f in order],
    'edges': edges,
}`;

/** The Python walk's view of a makeDot graph: its function nodes in order, their leaves, and the edges between them. */
function asWalk(graph: torch.viz.Graph): PyWalk {
  const fnIndex = new Map<number, number>();
  graph.nodes.forEach((n, i) => {
    if (n.kind === 'function') fnIndex.set(i, fnIndex.size);
  });
  const names = graph.nodes.filter((n) => n.kind === 'function').map((n) => n.name);
  const variables: (string | null)[] = names.map(() => null);
  const shapes: (number[] | null)[] = names.map(() => null);
  const edges: [number, number][] = [];
  for (const [from, to] of graph.edges) {
    const f = graph.nodes[from];
    if (f.kind === 'variable') {
      variables[fnIndex.get(to)!] = f.name;
      shapes[fnIndex.get(to)!] = f.shape!;
    } else if (f.kind === 'function' && graph.nodes[to].kind === 'function') {
      edges.push([fnIndex.get(from)!, fnIndex.get(to)!]);
    }
  }
  return { names, variables, shapes, edges };
}

describe('makeDot: the autograd graph as Python has it', () => {
  it('an SE-ResNet-18 (convolutions, batch norm, SE gates, residual adds): same nodes, edges and leaves', async () => {
    torch.manualSeed(0);
    const model = torch.models.seResNet18({ stem: 'cifar', numClasses: 10, width: 8, se: { reduction: 4 } });
    const x = torch.randn(2, 3, 16, 16);
    const y = model(x);
    const dot = torch.viz.makeDot(y, { params: Object.fromEntries(model.namedParameters()) });
    const expected = await py.run<PyWalk>(`
import sys
sys.path.insert(0, ${JSON.stringify(path.resolve(__dirname, '../scripts/reference'))})
import seresnet as R
m = R.se_resnet18(stem='cifar', num_classes=10, width=8, se={'reduction': 4})
y = m(torch.randn(2, 3, 16, 16))
${WALK}`);
    const got = asWalk(dot.graph);
    expect(got.names).toEqual(expected.names);
    expect(got.edges).toEqual(expected.edges);
    expect(got.variables).toEqual(expected.variables);
    expect(got.shapes).toEqual(expected.shapes);
    expect(got.names).toContain('ConvolutionBackward0');
    expect(got.names).toContain('AddmmBackward0');
    expect(got.variables.filter((v) => v !== null)).toHaveLength(model.parameters().length);
    // the output, drawn from its grad_fn
    expect(dot.graph.nodes[0]).toEqual({ kind: 'output', name: '', shape: [2, 10] });
  });

  it('a small function of two leaves, one used twice; several outputs share their nodes', async () => {
    const a = torch.randn([3], { requiresGrad: true });
    const b = torch.randn([3], { requiresGrad: true });
    const y = a.mul(b).add(a).sum();
    const expected = await py.run<PyWalk>(`
a = torch.randn(3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
class M(torch.nn.Module):
    pass
m = M()
m.a = torch.nn.Parameter(a.detach().requires_grad_())
m.b = torch.nn.Parameter(b.detach().requires_grad_())
y = (m.a * m.b + m.a).sum()
${WALK}`);
    const graph = torch.viz.autogradGraph(y, { params: { a, b } });
    expect(asWalk(graph)).toEqual(expected);
    // two outputs of one computation: each shared node once
    const z = a.mul(b);
    const both = torch.viz.autogradGraph([z.sum(), z.mean()], { params: { a, b } });
    const functions = both.nodes.filter((n) => n.kind === 'function').map((n) => n.name).sort();
    expect(functions).toEqual(['AccumulateGrad', 'AccumulateGrad', 'MeanBackward0', 'MulBackward0', 'SumBackward0']);
    expect(new Set(both.edges.map((e) => e.join())).size).toBe(both.edges.length);
    // the same output twice is drawn once
    expect(torch.viz.autogradGraph([y, y]).nodes.filter((n) => n.kind === 'output')).toHaveLength(1);
    // a tensor without a graph is one node
    expect(torch.viz.autogradGraph(torch.ones(2))).toEqual({ nodes: [{ kind: 'output', name: '', shape: [2] }], edges: [] });
    expect(() => torch.viz.makeDot(y, { params: { a: 1 } } as never)).toThrow(/params.a must be a Tensor/);
    expect(() => torch.viz.makeDot(y, { param: {} } as never)).toThrow(/unknown option 'param'/);
  });

  it('DOT text in make_dot’s style, and an SVG laid out by Graphviz', async () => {
    const lin = new torch.nn.Linear(4, 2);
    const y = lin(torch.randn(3, 4)).relu();
    const dot = torch.viz.makeDot(y, { params: Object.fromEntries(lin.namedParameters()) });
    const source = dot.source;
    expect(source).toMatch(/^digraph \{\n\tgraph \[size="12,12"\]\n\tnode \[align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled\]\n/);
    expect(source).toContain('[label="\\n (3, 2)" fillcolor=darkolivegreen1]');
    expect(source).toContain('[label="weight\\n (2, 4)" fillcolor=lightblue]');
    expect(source).toContain('[label="bias\\n (2)" fillcolor=lightblue]');
    expect(source).toContain('[label="ReluBackward0"]');
    expect(source).toContain('[label="AddmmBackward0"]');
    const svg = await dot.svg();
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg /);
    for (const text of ['ReluBackward0', 'AddmmBackward0', 'AccumulateGrad', 'weight', '(2, 4)']) expect(svg).toContain(text);
  });
});
