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
 * Graphviz may place equal graphs a little differently). A view output's base is drawn with a dotted edge
 * to it. `showAttrs` writes under each grad_fn what it saved for backward (Python's `_saved_*` values),
 * `showSaved` draws the saved tensors (orange, an undirected edge to their node); both read the fields of
 * the LibTorch in use (scripts/gen/saved-attrs.js). A tensor is one node however many roles it has (a
 * leaf also saved by a convolution); it is drawn as the last role make_dot declares it in, as Graphviz
 * keeps the last declaration.
 */
import { native, type SavedField } from '../core/native';
import { Tensor } from '../core/tensor';
import { optionsArg } from '../core/args';
import { describe } from '../core/dtype';

export interface GraphNode {
  /**
   * 'output' (a tensor the graph was drawn from), 'base' (the tensor an output is a view of), 'function'
   * (a grad_fn node), 'variable' (a leaf) or 'saved' (a tensor a grad_fn saved for backward, showSaved).
   */
  kind: 'output' | 'base' | 'function' | 'variable' | 'saved';
  /** A grad_fn node's class name as Python shows it; a tensor's parameter name ('' when it is none), or
   * for a saved tensor the field it was saved as ('input', 'tensors[1]'). */
  name: string;
  /** A tensor's shape. */
  shape?: number[];
  /** showAttrs: a grad_fn's saved fields, as Python's str() of `grad_fn._saved_<name>`, in Python's order. */
  attrs?: Record<string, string>;
}

/**
 * [from, to] indices into nodes: `from` feeds `to` (a next function, a leaf, or the output's grad_fn).
 * A third element marks the two other kinds make_dot draws: 'saved' (a grad_fn to a tensor it saved,
 * undirected) and 'view' (a base to its view, dotted).
 */
export type GraphEdge = [from: number, to: number, style?: 'saved' | 'view'];

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface MakeDotOptions {
  /** Names for the leaves, as make_dot's params: `Object.fromEntries(model.namedParameters())`. */
  params?: Record<string, Tensor>;
  /** Write what each grad_fn saved under its name (make_dot's show_attrs). */
  showAttrs?: boolean;
  /** Draw the tensors each grad_fn saved (make_dot's show_saved). */
  showSaved?: boolean;
  /** showAttrs: longest value shown before it is cut with '...' (make_dot's max_attr_chars, 50). */
  maxAttrChars?: number;
}

/** The graph as data: what makeDot draws. */
export function autogradGraph(outputs: Tensor | Tensor[], opts?: MakeDotOptions): Graph {
  const o = optionsArg<MakeDotOptions>(opts, 'makeDot', ['params', 'showAttrs', 'showSaved', 'maxAttrChars']);
  const names = new Map<bigint, string>();
  for (const [name, p] of Object.entries(o.params ?? {})) {
    if (!(p instanceof Tensor)) throw new TypeError(`makeDot: params.${name} must be a Tensor (got ${describe(p)})`);
    names.set(native.tensorId(p.handle), name);
  }
  for (const flag of ['showAttrs', 'showSaved'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') throw new TypeError(`makeDot: ${flag} must be a boolean (got ${describe(o[flag])})`);
  }
  if (o.maxAttrChars !== undefined && !Number.isInteger(o.maxAttrChars)) {
    throw new TypeError(`makeDot: maxAttrChars must be an integer (got ${describe(o.maxAttrChars)})`);
  }
  const withSaved = Boolean(o.showAttrs || o.showSaved);
  const list = Array.isArray(outputs) ? outputs : [outputs];
  const graph: Graph = { nodes: [], edges: [] };
  // One node per tensor and per grad_fn, however often reached (make_dot's `seen`); a tensor declared
  // again takes its latest role, as Graphviz keeps a node's last declaration.
  const tensors = new Map<bigint, number>();
  const drawn = new Map<bigint, number>();
  const tensorNode = (id: bigint, node: GraphNode): number => {
    const known = tensors.get(id);
    if (known !== undefined) {
      graph.nodes[known] = node;
      return known;
    }
    const index = graph.nodes.push(node) - 1;
    tensors.set(id, index);
    return index;
  };
  const addSaved = (fn: number, saved: SavedField[]) => {
    for (const field of saved) {
      const items: [string, SavedField['tensor']][] = field.tensor
        ? [[field.name, field.tensor]]
        : (field.tensors ?? []).map((t, i) => [`${field.name}[${i}]`, t]);
      for (const [name, t] of items) {
        if (t) graph.edges.push([fn, tensorNode(t.id, { kind: 'saved', name, shape: t.shape }), 'saved']);
      }
    }
  };
  // A grad_fn's graph, below the node `into` that its root feeds.
  const walks: NonNullable<ReturnType<typeof native.autogradGraph>>[] = []; // their saved tensors' handles are freed at the end
  const addFunctions = (t: Tensor, into: number) => {
    const walk = native.autogradGraph(t.handle, withSaved);
    if (!walk) return;
    walks.push(walk);
    const fresh = walk.nodes.map((n) => !drawn.has(n.id));
    const at = walk.nodes.map((n) => {
      const known = drawn.get(n.id);
      if (known !== undefined) return known;
      const index = graph.nodes.push({ kind: 'function', name: n.name }) - 1;
      drawn.set(n.id, index);
      const saved = n.saved ?? []; // sorted by name natively, as Python's dir() lists them
      if (o.showAttrs && saved.length) graph.nodes[index].attrs = Object.fromEntries(saved.map((f) => [f.name, attrText(f)]));
      if (o.showSaved) addSaved(index, saved);
      if (n.variable) {
        const leaf = tensorNode(n.variable.id, { kind: 'variable', name: names.get(n.variable.id) ?? '', shape: n.variable.shape });
        graph.edges.push([leaf, index]);
      }
      return index;
    });
    graph.edges.push([at[0], into]);
    for (const [from, to] of walk.edges) if (fresh[to]) graph.edges.push([at[from], at[to]]);
  };
  // make_dot's add_base_tensor: the tensor, its graph, and the tensor it is a view of.
  const addTensor = (t: Tensor, kind: 'output' | 'base'): number | undefined => {
    const id = native.tensorId(t.handle);
    if (tensors.has(id)) return undefined;
    const index = tensorNode(id, { kind, name: names.get(id) ?? '', shape: t.shape });
    addFunctions(t, index);
    const base = native.viewBase(t.handle);
    if (base) {
      const from = addTensor(new Tensor(base), 'base');
      graph.edges.push([from ?? tensors.get(native.tensorId(base))!, index, 'view']);
    }
    return index;
  };
  try {
    list.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new TypeError(`makeDot: output ${i} must be a Tensor (got ${describe(t)})`);
      addTensor(t, 'output');
    });
  } finally {
    // the saved tensors' handles, held until now so that no address was reused for another tensor
    for (const walk of walks) {
      for (const n of walk.nodes) {
        for (const field of n.saved ?? []) for (const t of field.tensor ? [field.tensor] : (field.tensors ?? [])) if (t) native.dispose(t.handle);
      }
    }
  }
  return graph;
}

/** make_dot's value for a saved field: '[saved tensor]', '[saved tensors]', or Python's str() of it. */
function attrText(field: SavedField): string {
  if (field.tensor) return '[saved tensor]';
  if (field.tensors) {
    if (field.tensors.some((t) => t !== null)) return '[saved tensors]';
    return `(${field.tensors.map(() => 'None').join(', ')}${field.tensors.length === 1 ? ',' : ''})`;
  }
  return field.text!;
}

/** make_dot's get_fn_name with show_attrs: the name, a rule, then "key: value" rows in two columns. */
function functionLabel(n: GraphNode, maxAttrChars: number): string {
  const attrs = Object.entries(n.attrs ?? {});
  if (!attrs.length) return n.name;
  const max = Math.max(maxAttrChars, 3);
  const keyWidth = Math.max(...attrs.map(([k]) => k.length));
  const valueWidth = Math.min(Math.max(...attrs.map(([, v]) => v.length)), max);
  const rule = '-'.repeat(Math.max(keyWidth + valueWidth + 2, n.name.length));
  const cut = (v: string) => (v.length > valueWidth ? `${v.slice(0, valueWidth - 3)}...` : v);
  const rows = attrs.map(([k, v]) => `${k.padEnd(keyWidth)}: ${cut(v).padStart(valueWidth)}`);
  return [n.name, rule, ...rows].join('\n');
}

const FILL: Record<GraphNode['kind'], string | null> = {
  output: 'darkolivegreen1',
  base: 'darkolivegreen3',
  function: null,
  variable: 'lightblue',
  saved: 'orange',
};
const EDGE_STYLE = { saved: ' [dir=none]', view: ' [style=dotted]' } as const;

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** make_dot's label of a tensor: its name, then its shape as make_dot writes it ('(3)', '(2, 10)'). */
function tensorLabel(n: GraphNode): string {
  return `${n.name}\n (${n.shape!.join(', ')})`;
}

/**
 * The DOT text of a graph, with make_dot's node style and its size rule (0.15 in. a line, at least 12).
 * `forLayout` adds each box's width for its monospace label: Graphviz has no metrics for 'monospace' and
 * measures it as Times, so its own boxes are too narrow for the text (0.6 em a character, plus the
 * default 0.11 in. margins), and keeps a label from starting with an empty line (below).
 */
export function toDot(graph: Graph, maxAttrChars = 50, forLayout = false): string {
  const body: string[] = [];
  graph.nodes.forEach((n, i) => {
    const label = n.kind === 'function' ? functionLabel(n, maxAttrChars) : tensorLabel(n);
    const width = forLayout ? ` width=${((Math.max(...label.split('\n').map((l) => l.length)) * 6 + 16) / 72).toFixed(3)}` : '';
    // A label whose first line is empty (an unnamed tensor's) corrupts the WebAssembly Graphviz's memory
    // (viz 3.x, Graphviz 10–16: "table index is out of bounds" on a later layout); a space there looks the same.
    const text = forLayout && label.startsWith('\n') ? ` ${label}` : label;
    body.push(`\t${i} [label=${quote(text)}${FILL[n.kind] ? ` fillcolor=${FILL[n.kind]}` : ''}${width}]`);
  });
  for (const [from, to, style] of graph.edges) body.push(`\t${from} -> ${to}${style ? EDGE_STYLE[style] : ''}`);
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

function vizInstance(): Promise<VizInstance> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  viz ??= (require('@viz-js/viz') as { instance(): Promise<VizInstance> }).instance();
  return viz;
}

/** The drawing of makeDot: DOT text, the graph as data, and an SVG laid out by Graphviz. */
export class Digraph {
  constructor(
    readonly graph: Graph,
    private readonly maxAttrChars = 50,
  ) {}

  /** Graphviz's DOT text (`dot -Tpng` draws it, or any Graphviz viewer). */
  get source(): string {
    return toDot(this.graph, this.maxAttrChars);
  }

  /** The graph laid out by Graphviz itself (compiled to WebAssembly: @viz-js/viz), as SVG text. */
  async svg(): Promise<string> {
    try {
      return (await vizInstance()).renderString(toDot(this.graph, this.maxAttrChars, true), { format: 'svg' });
    } catch (e) {
      viz = null; // a WebAssembly trap leaves the instance unusable: the next call starts a fresh one
      throw new Error(
        `makeDot: Graphviz (WebAssembly) could not lay out this graph: ${(e as Error).message}; write .source and run Graphviz's dot instead`,
        {
          cause: e,
        },
      );
    }
  }
}

/** torchviz.make_dot(y, params=dict(model.named_parameters())). */
export function makeDot(outputs: Tensor | Tensor[], opts?: MakeDotOptions): Digraph {
  return new Digraph(autogradGraph(outputs, opts), opts?.maxAttrChars);
}
