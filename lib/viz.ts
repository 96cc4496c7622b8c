/**
 * The autograd graph behind a tensor, drawn as torchviz's make_dot draws it:
 *
 *     const y = model(x);
 *     const dot = torch.viz.makeDot(y, { params: Object.fromEntries(model.namedParameters()) });
 *     fs.writeFileSync('graph.dot', dot.source);
 *     fs.writeFileSync('graph.svg', await dot.svg());      // laid out by Graphviz (WebAssembly)
 *     dot.graph;                                           // { nodes, edges }: to draw it yourself
 *
 * Nodes are the grad_fn nodes under Python's names (ConvolutionBackward0, AddmmBackward0…), the leaves
 * a gradient accumulates into (AccumulateGrad, with a box for the tensor: its parameter name and shape),
 * and the output tensor; edges go from each next function to the node that feeds it. The nodes come in
 * make_dot's depth-first order; the DOT text lists nodes, then edges (make_dot interleaves them, so
 * Graphviz may place equal graphs a little differently). Not drawn as make_dot draws them: the base of
 * a view output (make_dot's dotted edge), and Python's show_saved/show_attrs, since LibTorch's C++ nodes
 * do not list their saved tensors and attributes generically (Python's generated bindings do).
 */
import { native } from './native';
import { Tensor, optionsArg } from './tensor';
import { describe } from './dtype';

export interface GraphNode {
  /** 'output' (a tensor the graph was drawn from), 'function' (a grad_fn node) or 'variable' (a leaf). */
  kind: 'output' | 'function' | 'variable';
  /** A grad_fn node's class name as Python shows it; a tensor's parameter name ('' when it is none). */
  name: string;
  /** A tensor's shape (output and variable nodes). */
  shape?: number[];
}

export interface Graph {
  nodes: GraphNode[];
  /** [from, to] indices into nodes: `from` feeds `to` (a next function, a leaf, or the output's grad_fn). */
  edges: [number, number][];
}

export interface MakeDotOptions {
  /** Names for the leaves, as make_dot's params: `Object.fromEntries(model.namedParameters())`. */
  params?: Record<string, Tensor>;
}

/** The graph as data: what makeDot draws. */
export function autogradGraph(outputs: Tensor | Tensor[], opts?: MakeDotOptions): Graph {
  const o = optionsArg<MakeDotOptions>(opts, 'makeDot', ['params']);
  const names = new Map<bigint, string>();
  for (const [name, p] of Object.entries(o.params ?? {})) {
    if (!(p instanceof Tensor)) throw new TypeError(`makeDot: params.${name} must be a Tensor (got ${describe(p)})`);
    names.set(native.tensorId(p.handle), name);
  }
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const graph: Graph = { nodes: [], edges: [] };
  // A node reached from several outputs is drawn once, and its edges once (make_dot's `seen`).
  const drawn = new Map<bigint, number>();
  const drawnOutputs = new Set<bigint>();
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`makeDot: output ${i} must be a Tensor (got ${describe(t)})`);
    const id = native.tensorId(t.handle);
    if (drawnOutputs.has(id)) return; // the same tensor twice is drawn once
    drawnOutputs.add(id);
    const out = graph.nodes.push({ kind: 'output', name: names.get(native.tensorId(t.handle)) ?? '', shape: t.shape }) - 1;
    const walk = native.autogradGraph(t.handle);
    if (!walk) return;
    const fresh = walk.nodes.map((n) => !drawn.has(n.id));
    const at = walk.nodes.map((n) => {
      const known = drawn.get(n.id);
      if (known !== undefined) return known;
      const index = graph.nodes.push({ kind: 'function', name: n.name }) - 1;
      drawn.set(n.id, index);
      if (n.variable) {
        const leaf = graph.nodes.push({ kind: 'variable', name: names.get(n.variable.id) ?? '', shape: n.variable.shape }) - 1;
        graph.edges.push([leaf, index]);
      }
      return index;
    });
    graph.edges.push([at[0], out]);
    for (const [from, to] of walk.edges) if (fresh[to]) graph.edges.push([at[from], at[to]]);
  });
  return graph;
}

const FILL: Record<GraphNode['kind'], string | null> = { output: 'darkolivegreen1', function: null, variable: 'lightblue' };

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** make_dot's label of a tensor: its name, then its shape as make_dot writes it ('(3)', '(2, 10)'). */
function tensorLabel(n: GraphNode): string {
  return `${n.name}\n (${n.shape!.join(', ')})`;
}

/** The DOT text of a graph, with make_dot's node style and its size rule (0.15 in. a line, at least 12). */
export function toDot(graph: Graph): string {
  const body: string[] = [];
  graph.nodes.forEach((n, i) => {
    const label = n.kind === 'function' ? n.name : tensorLabel(n);
    body.push(`\t${i} [label=${quote(label)}${FILL[n.kind] ? ` fillcolor=${FILL[n.kind]}` : ''}]`);
  });
  for (const [from, to] of graph.edges) body.push(`\t${from} -> ${to}`);
  const size = Math.max(12, body.length * 0.15);
  return [
    'digraph {',
    `\tgraph [size="${size},${size}"]`,
    '\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]',
    ...body,
    '}',
    '',
  ].join('\n');
}

type VizInstance = { renderString(dot: string, opts: { format: string }): string };
let viz: Promise<VizInstance> | null = null;

/** The drawing of makeDot: DOT text, the graph as data, and an SVG laid out by Graphviz. */
export class Digraph {
  constructor(readonly graph: Graph) {}

  /** Graphviz's DOT text (`dot -Tpng` draws it, or any Graphviz viewer). */
  get source(): string {
    return toDot(this.graph);
  }

  /** The graph laid out by Graphviz itself (compiled to WebAssembly: @viz-js/viz), as SVG text. */
  async svg(): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    viz ??= (require('@viz-js/viz') as { instance(): Promise<VizInstance> }).instance();
    return (await viz).renderString(this.source, { format: 'svg' });
  }
}

/** torchviz.make_dot(y, params=dict(model.named_parameters())). */
export function makeDot(outputs: Tensor | Tensor[], opts?: MakeDotOptions): Digraph {
  return new Digraph(autogradGraph(outputs, opts));
}
