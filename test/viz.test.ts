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
    const functions = both.nodes
      .filter((n) => n.kind === 'function')
      .map((n) => n.name)
      .sort();
    expect(functions).toEqual(['AccumulateGrad', 'AccumulateGrad', 'MeanBackward0', 'MulBackward0', 'SumBackward0']);
    expect(new Set(both.edges.map((e) => e.join())).size).toBe(both.edges.length);
    // the same output twice is drawn once
    expect(torch.viz.autogradGraph([y, y]).nodes.filter((n) => n.kind === 'output')).toHaveLength(1);
    // a tensor without a graph is one node
    expect(torch.viz.autogradGraph(torch.ones(2))).toEqual({ nodes: [{ kind: 'output', name: '', shape: [2] }], edges: [] });
    expect(() => torch.viz.makeDot(y, { params: { a: 1 } } as never)).toThrow(/params.a must be a Tensor/);
    expect(() => torch.viz.makeDot(y, { param: {} } as never)).toThrow(/unknown option 'param'/);
  });

  it('showAttrs and showSaved: each grad_fn’s saved fields as Python’s _saved_ attributes, and make_dot’s labels', async () => {
    // Field kinds: int lists, SymInts, bools, doubles, Scalars (int, float), optional Scalars, negative
    // dims (Python shows them as unsigned), saved inputs, saved outputs, a list of optional tensors.
    torch.manualSeed(0);
    const conv = new torch.nn.Conv2d(3, 4, 3, { padding: 1 });
    const bn = new torch.nn.BatchNorm2d(4);
    const lin = new torch.nn.Linear(4, 2);
    let h = torch.nn.functional.maxPool2d(torch.relu(bn(conv(torch.randn(2, 3, 8, 8)))), 2);
    h = h.pow(2.5).clamp({ min: 0.1 }).mul(1e-5);
    h = torch.cat([h, h], 1).mean([2, 3]).narrow(1, 0, 4);
    h = torch.indexPut(h, [torch.tensor([0, 1])], torch.ones(2, 4));
    const y = torch.nn.functional.leakyRelu(lin(h), 0.2).std(-1, { correction: 0 }).sum();
    const expected = await py.run<{ names: string[]; attrs: [string, string][][]; saved: number[][][]; labels: string[] }>(`
torch.manual_seed(0)
conv = torch.nn.Conv2d(3, 4, 3, padding=1)
bn = torch.nn.BatchNorm2d(4)
lin = torch.nn.Linear(4, 2)
F = torch.nn.functional
h = F.max_pool2d(torch.relu(bn(conv(torch.randn(2, 3, 8, 8)))), 2)
h = h.pow(2.5).clamp(min=0.1).mul(1e-5)
h = torch.cat([h, h], 1).mean([2, 3]).narrow(1, 0, 4)
h = torch.index_put(h, (torch.tensor([0, 1]),), torch.ones(2, 4))
y = F.leaky_relu(lin(h), 0.2).std(-1, correction=0).sum()
class M(torch.nn.Module):
    pass
m = M()
${WALK}
def saved_of(fn):
    attrs, shapes = [], []
    for attr in dir(fn):
        if not attr.startswith('_saved_'):
            continue
        val, name = getattr(fn, attr), attr[len('_saved_'):]
        if torch.is_tensor(val):
            attrs.append([name, '[saved tensor]'])
            shapes.append(list(val.shape))
        elif isinstance(val, tuple) and any(torch.is_tensor(t) for t in val):
            attrs.append([name, '[saved tensors]'])
            shapes += [list(t.shape) for t in val if torch.is_tensor(t)]
        else:
            attrs.append([name, str(val)])
    return attrs, shapes
# torchviz's get_fn_name(fn, show_attrs=True, max_attr_chars=20)
def label(fn, max_attr_chars=20):
    name = type(fn).__name__
    attrs = dict(saved_of(fn)[0])
    if not attrs:
        return name
    col1width = max(len(k) for k in attrs.keys())
    col2width = min(max(len(str(v)) for v in attrs.values()), max(max_attr_chars, 3))
    sep = '-' * max(col1width + col2width + 2, len(name))
    attrstr = '%-' + str(col1width) + 's: %' + str(col2width) + 's'
    truncate = lambda s: s[:col2width - 3] + '...' if len(s) > col2width else s
    return name + '\\n' + sep + '\\n' + '\\n'.join(attrstr % (k, truncate(str(v))) for (k, v) in attrs.items())
out = {'names': out['names'], 'attrs': [saved_of(f)[0] for f in order], 'saved': [saved_of(f)[1] for f in order],
       'labels': [label(f) for f in order]}`);
    const graph = torch.viz.autogradGraph(y, { showAttrs: true, showSaved: true });
    const functions = graph.nodes.map((n, i) => [n, i] as const).filter(([n]) => n.kind === 'function');
    expect(functions.map(([n]) => n.name)).toEqual(expected.names);
    expect(functions.map(([n]) => Object.entries(n.attrs ?? {}))).toEqual(expected.attrs);
    const savedShapes = functions.map(([, i]) =>
      graph.edges.filter(([from, , style]) => from === i && style === 'saved').map(([, to]) => graph.nodes[to].shape),
    );
    expect(savedShapes).toEqual(expected.saved);
    // the checks above saw every field kind
    const attrs = Object.assign({}, ...functions.map(([n]) => n.attrs ?? {}));
    expect(attrs).toMatchObject({ eps: '1e-05', negative_slope: '0.2', exponent: '2.5', min: '0.1', max: 'None', training: 'True' });
    expect(functions.find(([n]) => n.name === 'StdBackward0')![0].attrs!.dim).toBe('(18446744073709551615,)');
    expect(attrs.indices).toBe('[saved tensors]');
    // make_dot's labels, cut at maxAttrChars
    const source = torch.viz.makeDot(y, { showAttrs: true, maxAttrChars: 20 }).source;
    for (const label of expected.labels) expect(source).toContain(`[label="${label.replace(/\n/g, '\\n')}"]`);
    expect(source).not.toContain('fillcolor=orange'); // saved tensors only with showSaved
    // a saved leaf is the leaf's node (a convolution's weight); saved outputs are each their own
    const shown = torch.viz.autogradGraph(y, { showSaved: true, params: Object.fromEntries(conv.namedParameters()) });
    const weight = shown.nodes.findIndex((n) => n.kind === 'variable' && n.name === 'weight');
    expect(shown.edges.filter(([, to, style]) => to === weight && style === 'saved')).toHaveLength(1);
    expect(shown.nodes.filter((n) => n.kind === 'saved' && n.name === 'result')).toHaveLength(2); // std's and relu's
    expect(() => torch.viz.makeDot(y, { showAttrs: 1 } as never)).toThrow(/showAttrs must be a boolean/);
    // after backward the saved tensors are freed: reading them is Python's error
    y.backward();
    expect(() => torch.viz.makeDot(y, { showSaved: true })).toThrow(/backward through the graph a second time/);
    // the graph itself is still drawn
    expect(
      torch.viz
        .autogradGraph(y)
        .nodes.filter((n) => n.kind === 'function')
        .map((n) => n.name),
    ).toEqual(expected.names);
  });

  it('a view output is drawn from its base, with a dotted edge (make_dot’s add_base_tensor)', async () => {
    const lin = new torch.nn.Linear(4, 2);
    const out = lin(torch.randn(3, 4));
    const v = out.view(-1);
    const graph = torch.viz.autogradGraph(v);
    const base = graph.nodes.findIndex((n) => n.kind === 'base');
    expect(graph.nodes[base]).toEqual({ kind: 'base', name: '', shape: [3, 2] });
    expect(graph.edges).toContainEqual([base, 0, 'view']);
    const addmm = graph.nodes.findIndex((n) => n.name === 'AddmmBackward0');
    expect(graph.edges).toContainEqual([addmm, base]); // the base's own grad_fn, drawn once
    expect(graph.nodes.filter((n) => n.name === 'AddmmBackward0')).toHaveLength(1);
    expect(torch.viz.makeDot(v).source).toContain(`${base} -> 0 [style=dotted]`);
    expect(torch.viz.makeDot(v).source).toContain('fillcolor=darkolivegreen3');
    // not a view: no base
    expect(torch.viz.autogradGraph(out).nodes.some((n) => n.kind === 'base')).toBe(false);
  });

  it("gradFn is Python's grad_fn: name, nextFunctions with input numbers, AccumulateGrad's variable, saved values", async () => {
    const a = torch.randn([2, 3], { requiresGrad: true });
    const b = torch.randn([3], { requiresGrad: true });
    const y = a.mul(b).sum(1).pow(2).sum();
    const expected = await py.run<{ walk: [string, [string | null, number][]][]; saved: Record<string, unknown> }>(
      `
a.requires_grad_(True)
b.requires_grad_(True)
y = a.mul(b).sum(1).pow(2).sum()
walk, seen, todo = [], set(), [y.grad_fn]
while todo:
    f = todo.pop(0)
    if f in seen:
        continue
    seen.add(f)
    walk.append([type(f).__name__, [[None if n is None else type(n).__name__, nr] for n, nr in f.next_functions]])
    todo += [n for n, _ in f.next_functions if n is not None]
pow_fn = y.grad_fn.next_functions[0][0]
out = {'walk': walk, 'saved': {'exponent': str(pow_fn._saved_exponent), 'self': pow_fn._saved_self}}`,
      { a: a.detach(), b: b.detach() },
    );
    const walk: [string, [string | null, number][]][] = [];
    const seen = new Set<torch.GradFn>();
    const todo = [y.gradFn!];
    while (todo.length) {
      const f = todo.shift()!;
      if (seen.has(f)) continue;
      seen.add(f);
      walk.push([f.name, f.nextFunctions.map(([n, nr]) => [n === null ? null : n.name, nr])]);
      todo.push(...f.nextFunctions.map(([n]) => n).filter((n): n is torch.GradFn => n !== null));
    }
    expect(walk).toEqual(expected.walk);
    expect(y.gradFn).toBe(y.gradFn); // one object per node, as Python's \`is\`
    const powFn = y.gradFn!.nextFunctions[0][0]!;
    expect(powFn.saved.exponent).toBe(expected.saved.exponent);
    expect((powFn.saved.self as torch.Tensor).data()).toEqual((expected.saved.self as torch.Tensor).data());
    const leaf = [...seen].find((f) => f.name === 'AccumulateGrad')!;
    expect([a, b].some((t) => leaf.variable!.equal(t))).toBe(true);
    expect(y.gradFn!.variable).toBeUndefined();
    expect(a.gradFn).toBeNull();
  });

  it('DOT text in make_dot’s style, and an SVG laid out by Graphviz', async () => {
    const lin = new torch.nn.Linear(4, 2);
    const y = lin(torch.randn(3, 4)).relu();
    const dot = torch.viz.makeDot(y, { params: Object.fromEntries(lin.namedParameters()) });
    const source = dot.source;
    expect(source).toMatch(
      /^digraph \{\n\tgraph \[size="12,12"\]\n\tnode \[align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled\]\n/,
    );
    expect(source).toContain('[label="\\n (3, 2)" fillcolor=darkolivegreen1]');
    expect(source).toContain('[label="weight\\n (2, 4)" fillcolor=lightblue]');
    expect(source).toContain('[label="bias\\n (2)" fillcolor=lightblue]');
    expect(source).toContain('[label="ReluBackward0"]');
    expect(source).toContain('[label="AddmmBackward0"]');
    const svg = await dot.svg();
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg /);
    for (const text of ['ReluBackward0', 'AddmmBackward0', 'AccumulateGrad', 'weight', '(2, 4)']) expect(svg).toContain(text);
    // boxes sized for the monospace text (the SVG's only, the DOT text stays make_dot's): AddmmBackward0's
    // 16-character-wide table row fits its box
    const attrs = torch.viz.makeDot(y, { showAttrs: true, showSaved: true });
    expect(attrs.source).not.toContain('width=');
    const drawn = await attrs.svg();
    const box = drawn.match(/<polygon fill="lightgrey" stroke="black" points="([\d.]+),[^ ]* ([\d.]+),[^"]*"\/>\s*<text[^>]*>AddmmBackward0</);
    expect(box).not.toBeNull();
    expect(Number(box![1]) - Number(box![2])).toBeGreaterThanOrEqual(6 * 'mat1_sym_strides: [saved tensor]'.length);
    expect(drawn).toContain('fill="orange"');
  });
});
