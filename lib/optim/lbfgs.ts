/**
 * torch.optim.LBFGS, written as Python's lbfgs.py: limited-memory BFGS with an optional strong-Wolfe line
 * search, stepping with a closure that recomputes the loss. Python's update mixes Python floats (double)
 * and 0-d float tensors; the same mix is kept here (`Num`, with Python's rules for each operator), so the
 * steps are Python's to the bit.
 */
import { Tensor } from '../core/tensor';
import { describe } from '../core/dtype';
import { noGrad, enableGrad } from '../core/autograd';
import { keep, scope } from '../core/scope';
import { cat, rsub } from '../generated/torch';
import { Optimizer, optimizerOptions, type OptimizerStateDict, type ParamGroup, type ParamsArg, type PreparedStep } from './optimizer';
import { signature, type ArgsOf } from '../core/signature';

/** A Python float (number) or a 0-d tensor, as the values of Python's LBFGS are. */
type Num = number | Tensor;
const isT = (x: Num): x is Tensor => x instanceof Tensor;
const value = (x: Num): number => (isT(x) ? (x.item() as number) : x);
// Python's operators on float / tensor operands
const add = (a: Num, b: Num): Num => (isT(a) ? a.add(b) : isT(b) ? b.add(a) : a + b);
const sub = (a: Num, b: Num): Num => (isT(a) ? a.sub(b) : isT(b) ? rsub(b, a) : a - b);
const mul = (a: Num, b: Num): Num => (isT(a) ? a.mul(b) : isT(b) ? b.mul(a) : a * b);
const div = (a: Num, b: Num): Num => (isT(a) ? a.div(b) : isT(b) ? b.reciprocal().mul(a) : a / b);
const neg = (a: Num): Num => (isT(a) ? a.neg() : -a);
const abs = (a: Num): Num => (isT(a) ? a.abs() : Math.abs(a));
const lt = (a: Num, b: Num): boolean => value(a) < value(b);
// builtin min/max: the first of the smallest (largest), returned as it is
const min = (a: Num, b: Num): Num => (lt(b, a) ? b : a);
const max = (a: Num, b: Num): Num => (lt(a, b) ? b : a);
const sqrt = (a: Num): Num => (isT(a) ? a.sqrt() : Math.sqrt(a));

function cubicInterpolate(x1: Num, f1: Num, g1: Num, x2: Num, f2: Num, g2: Num, bounds?: [Num, Num]): Num {
  const [lo, hi] = bounds ?? (value(x1) <= value(x2) ? [x1, x2] : [x2, x1]);
  const d1 = sub(add(g1, g2), div(mul(3, sub(f1, f2)), sub(x1, x2)));
  const d2Square = sub(mul(d1, d1), mul(g1, g2));
  if (value(d2Square) >= 0) {
    const d2 = sqrt(d2Square);
    const minPos =
      value(x1) <= value(x2)
        ? sub(x2, mul(sub(x2, x1), div(sub(add(g2, d2), d1), add(sub(g2, g1), mul(2, d2)))))
        : sub(x1, mul(sub(x1, x2), div(sub(add(g1, d2), d1), add(sub(g1, g2), mul(2, d2)))));
    return min(max(minPos, lo), hi);
  }
  return div(add(lo, hi), 2.0);
}

/** `next`, after freeing `old` when it is a tensor that `next` is not. */
function replaced<X extends Num | null | undefined>(old: Num | null | undefined, next: X): X {
  if (old instanceof Tensor && old !== next) old.dispose();
  return next;
}

type Objective = (x: Tensor[], t: Num, d: Tensor) => [number, Tensor];

function strongWolfe(
  obj: Objective,
  x: Tensor[],
  t0: Num,
  d: Tensor,
  f: number,
  g0: Tensor,
  gtd: Tensor,
  maxLs: number,
  c1 = 1e-4,
  c2 = 0.9,
  toleranceChange = 1e-9,
): [number, Tensor, Num, number] {
  let t = t0;
  const dNorm = d.abs().max();
  const g = g0.clone();
  let [fNew, gNew] = obj(x, t, d);
  let evals = 1;
  let gtdNew: Num = gNew.dot(d);
  let [tPrev, fPrev, gPrev, gtdPrev]: [Num, Num, Tensor, Num] = [0, f, g, gtd];
  let done = false;
  let iter = 0;
  let bracket: Num[] = [];
  let bracketF: Num[] = [];
  let bracketG: Tensor[] = [];
  let bracketGtd: Num[] = [];
  while (iter < maxLs) {
    // Python's three checks in its order: no sufficient decrease, the strong Wolfe conditions, a rising slope
    const noDecrease = fNew > value(add(f, mul(mul(c1, t), gtd))) || (iter > 1 && fNew >= value(fPrev));
    if (!noDecrease && value(abs(gtdNew)) <= value(mul(-c2, gtd))) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (noDecrease || value(gtdNew) >= 0) {
      // the minimum lies between tPrev and t
      [bracket, bracketF, bracketG, bracketGtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew.clone()],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    const minStep = add(t, mul(0.01, sub(t, tPrev)));
    const maxStep = mul(t, 10);
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew.clone();
    gtdPrev = gtdNew;
    [fNew, gNew] = obj(x, t, d);
    evals += 1;
    gtdNew = gNew.dot(d);
    iter += 1;
  }
  if (iter === maxLs)
    [bracket, bracketF, bracketG] = [
      [0, t],
      [f, fNew],
      [g, gNew],
    ];
  let insufProgress = false;
  let [low, high] = value(bracketF[0]) <= value(bracketF[bracketF.length - 1]) ? [0, 1] : [1, 0];
  while (!done && iter < maxLs) {
    if (value(mul(abs(sub(bracket[1], bracket[0])), dNorm)) < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const [bMax, bMin] = [max(bracket[0], bracket[1]), min(bracket[0], bracket[1])];
    const eps = mul(0.1, sub(bMax, bMin));
    if (lt(min(sub(bMax, t), sub(t, bMin)), eps)) {
      if (insufProgress || value(t) >= value(bMax) || value(t) <= value(bMin)) {
        t = lt(abs(sub(t, bMax)), abs(sub(t, bMin))) ? sub(bMax, eps) : add(bMin, eps);
        insufProgress = false;
      } else insufProgress = true;
    } else insufProgress = false;
    [fNew, gNew] = obj(x, t, d);
    evals += 1;
    gtdNew = gNew.dot(d);
    iter += 1;
    if (fNew > value(add(f, mul(mul(c1, t), gtd))) || fNew >= value(bracketF[low])) {
      [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [t, fNew, gNew.clone(), gtdNew];
      [low, high] = value(bracketF[0]) <= value(bracketF[1]) ? [0, 1] : [1, 0];
    } else {
      if (value(abs(gtdNew)) <= value(mul(-c2, gtd))) done = true;
      else if (value(mul(gtdNew, sub(bracket[high], bracket[low]))) >= 0) {
        [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]];
      }
      [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]] = [t, fNew, gNew.clone(), gtdNew];
    }
  }
  return [value(bracketF[low]), bracketG[low], bracket[low], evals];
}

export interface LBFGSOptions {
  lr: number;
  maxIter: number;
  maxEval: number | null;
  toleranceGrad: number;
  toleranceChange: number;
  historySize: number;
  lineSearchFn: 'strong_wolfe' | null;
}
const LBFGS_ARGS = signature<LBFGSOptions>()(
  'LBFGS',
  ['lr', 'maxIter', 'maxEval', 'toleranceGrad', 'toleranceChange', 'historySize', 'lineSearchFn'],
  { lr: 1, maxIter: 20, maxEval: null, toleranceGrad: 1e-7, toleranceChange: 1e-9, historySize: 100, lineSearchFn: null },
);

/** What LBFGS keeps between steps (Python's state of its first parameter). */
interface History {
  funcEvals: number;
  nIter: number;
  d?: Tensor;
  t?: Num;
  oldDirs: Tensor[];
  oldStps: Tensor[];
  ro: Tensor[];
  hDiag: Num;
  prevFlatGrad?: Tensor;
  prevLoss?: number;
  al: (Tensor | null)[];
}

/**
 * Limited-memory BFGS, as torch.optim.LBFGS(params, lr, maxIter, maxEval, toleranceGrad, toleranceChange, historySize,
 * lineSearchFn): `step(closure)` reevaluates the loss as often as the method needs (closure: zero the grads,
 * compute the loss, backward, return it). One parameter group only, as Python's.
 */
export class LBFGS extends Optimizer<LBFGSOptions> {
  private readonly history: History = { funcEvals: 0, nIter: 0, oldDirs: [], oldStps: [], ro: [], hDiag: 1, al: [] };
  constructor(params: ParamsArg<LBFGSOptions>, ...rest: ArgsOf<typeof LBFGS_ARGS>) {
    const a = LBFGS_ARGS.bind(rest);
    super(params, optimizerOptions('LBFGS', { ...a, maxEval: a.maxEval ?? Math.floor((a.maxIter * 5) / 4) }, {}));
    if (this.paramGroups.length !== 1) throw new RangeError("LBFGS doesn't support per-parameter options (parameter groups)");
  }
  protected validate(g: ParamGroup<LBFGSOptions>): void {
    if (typeof g.lr !== 'number' || !(g.lr >= 0)) throw new RangeError(`Invalid learning rate: ${g.lr}`);
    if (g.lineSearchFn !== null && g.lineSearchFn !== 'strong_wolfe') throw new RangeError("only 'strong_wolfe' is supported");
  }
  protected prepareStep(): PreparedStep {
    throw new TypeError('LBFGS.step(closure): LBFGS needs a closure that recomputes the loss');
  }
  private get params(): Tensor[] {
    return this.paramGroups[0].params;
  }
  private flatGrad(): Tensor {
    return cat(
      this.params.map((p) => {
        const g = p.grad;
        return g === null ? p.newZeros([p.numel()]) : g.view(-1);
      }),
      0,
    );
  }
  private addGrad(stepSize: Num, update: Tensor): void {
    let offset = 0;
    for (const p of this.params) {
      const n = p.numel();
      p.add_(update.narrow(0, offset, n).viewAs(p), { alpha: value(stepSize) });
      offset += n;
    }
  }

  /** Python's layout: the history is the state of the first parameter (func_evals, n_iter, d, t, old_dirs, …). */
  override stateDict(): OptimizerStateDict {
    const sd = super.stateDict();
    const h = this.history;
    if (h.funcEvals === 0 && h.nIter === 0) return sd; // Python's state is empty until the first step
    const state: Record<string, unknown> = { func_evals: h.funcEvals, n_iter: h.nIter };
    if (h.d !== undefined) {
      const copy = (t: Num | undefined) => (t instanceof Tensor ? t.detach() : t);
      Object.assign(state, {
        d: copy(h.d),
        t: copy(h.t),
        old_dirs: h.oldDirs.map(copy),
        old_stps: h.oldStps.map(copy),
        ro: h.ro.map(copy),
        H_diag: copy(h.hDiag),
        prev_flat_grad: copy(h.prevFlatGrad),
        prev_loss: h.prevLoss,
      });
      if (h.al.length) state.al = h.al.map((t) => (t === null ? null : t.detach()));
    }
    // OptimizerStateDict types a state's entries as tensors (every other optimizer's are); this one also holds
    // counts and lists, as Python's, which the shared type can't say.
    return { ...sd, state: { 0: state as Record<string, Tensor> } };
  }
  override loadStateDict(sd: OptimizerStateDict): void {
    const loaded = (sd?.state as Record<string, Record<string, unknown>> | undefined)?.['0'];
    super.loadStateDict({ ...sd, state: {} });
    // the loaded state replaces all of the current one, as Python's load_state_dict
    const h = this.history;
    this.clearHistory();
    for (const x of [h.d, h.t, h.prevFlatGrad]) if (x instanceof Tensor) x.dispose();
    [h.d, h.t, h.prevFlatGrad, h.prevLoss, h.funcEvals, h.nIter] = [undefined, undefined, undefined, undefined, 0, 0];
    if (!loaded) return;
    // floating tensors follow the parameters' device and dtype, as Python casts them
    const p0 = this.paramGroups[0].params[0];
    const t = (v: unknown): Tensor => keep((v as Tensor).to({ device: p0.device, dtype: p0.dtype, copy: true }));
    const num = (v: unknown): Num => (v instanceof Tensor ? t(v) : Number(v));
    h.funcEvals = Number(loaded.func_evals ?? 0);
    h.nIter = Number(loaded.n_iter ?? 0);
    if (loaded.d instanceof Tensor) {
      h.d = t(loaded.d);
      h.t = num(loaded.t);
      h.oldDirs = (loaded.old_dirs as Tensor[]).map(t);
      h.oldStps = (loaded.old_stps as Tensor[]).map(t);
      h.ro = (loaded.ro as Tensor[]).map(t);
      h.hDiag = num(loaded.H_diag);
      h.prevFlatGrad = t(loaded.prev_flat_grad);
      h.prevLoss = Number(loaded.prev_loss);
      h.al = Array.isArray(loaded.al) ? loaded.al.map((a) => (a instanceof Tensor ? t(a) : null)) : [];
    }
  }

  /** One optimisation step: up to maxIter iterations, each one or more closure calls; returns the first loss. */
  override step(closure?: () => Tensor): Tensor {
    if (typeof closure !== 'function') throw new TypeError(`LBFGS.step(closure): closure must be a function (got ${describe(closure)})`);
    // each later evaluation keeps only the loss's value: its graph and outputs go at once, as Python's
    const evaluate = (): number => scope(() => Number(enableGrad(closure).item()));
    const g = this.paramGroups[0];
    const s = this.history;
    return noGrad(() => {
      const origLoss = enableGrad(closure);
      let loss = Number(origLoss.item());
      let evals = 1;
      s.funcEvals += 1;
      let flatGrad = this.flatGrad();
      let optCond = value(flatGrad.abs().max()) <= g.toleranceGrad;
      if (optCond) {
        flatGrad.dispose();
        return origLoss;
      }
      let { d, t } = s;
      let iter = 0;
      // what one iteration hands the next; the previous iteration's is freed once replaced
      const free = (old: Num | undefined, next: Num | undefined) => {
        if (old instanceof Tensor && old !== next && old !== s.d && old !== s.t) old.dispose();
      };
      while (iter < g.maxIter) {
        iter += 1;
        s.nIter += 1;
        const carried = scope(() => {
          let dd = d;
          if (s.nIter === 1) {
            dd = flatGrad.neg();
            this.clearHistory();
          } else {
            const y = flatGrad.sub(s.prevFlatGrad!);
            const step = dd!.mul(t!);
            const ys = y.dot(step);
            if (value(ys) > 1e-10) {
              if (s.oldDirs.length === g.historySize) {
                for (const list of [s.oldDirs, s.oldStps, s.ro]) list.shift()!.dispose();
              }
              s.oldDirs.push(keep(y));
              s.oldStps.push(keep(step));
              s.ro.push(keep(ys.reciprocal().mul(1.0)));
              s.hDiag = replaced(s.hDiag, keep(ys.div(y.dot(y))));
            }
            const num = s.oldDirs.length;
            if (s.al.length === 0) s.al = new Array<Tensor | null>(g.historySize).fill(null);
            const q = flatGrad.neg();
            for (let i = num - 1; i >= 0; i--) {
              s.al[i] = replaced(s.al[i], keep(s.oldStps[i].dot(q).mul(s.ro[i])));
              q.add_(s.oldDirs[i], { alpha: value(neg(s.al[i]!)) });
            }
            const r = q.mul(s.hDiag);
            for (let i = 0; i < num; i++) {
              const be = s.oldDirs[i].dot(r).mul(s.ro[i]);
              r.add_(s.oldStps[i], { alpha: value(sub(s.al[i]!, be)) });
            }
            dd = r;
          }
          if (s.prevFlatGrad === undefined) s.prevFlatGrad = keep(flatGrad.clone());
          else s.prevFlatGrad.copy_(flatGrad);
          s.prevLoss = loss;
          let tt: Num = s.nIter === 1 ? mul(min(1.0, flatGrad.abs().sum().reciprocal().mul(1.0)), g.lr) : g.lr;
          const gtd = flatGrad.dot(dd!);
          if (value(gtd) > -g.toleranceChange) return { d: dd, t: tt, flatGrad, stop: true };
          let lsEvals = 0;
          let fg = flatGrad;
          if (g.lineSearchFn !== null) {
            const xInit = this.params.map((p) => p.clone());
            const obj: Objective = (x, step, dir) =>
              scope(() => {
                this.addGrad(step, dir);
                const l = evaluate();
                const grad = this.flatGrad();
                this.params.forEach((p, i) => p.copy_(x[i]));
                return [l, grad] as [number, Tensor];
              });
            [loss, fg, tt, lsEvals] = strongWolfe(obj, xInit, tt, dd!, loss, flatGrad, gtd, g.maxEval! - evals);
            this.addGrad(tt, dd!);
            optCond = value(fg.abs().max()) <= g.toleranceGrad;
          } else {
            this.addGrad(tt, dd!);
            if (iter !== g.maxIter) {
              loss = evaluate();
              fg = this.flatGrad();
              optCond = value(fg.abs().max()) <= g.toleranceGrad;
              lsEvals = 1;
            }
          }
          evals += lsEvals;
          s.funcEvals += lsEvals;
          const stop =
            iter === g.maxIter ||
            evals >= g.maxEval! ||
            optCond ||
            value(dd!.mul(tt).abs().max()) <= g.toleranceChange ||
            Math.abs(loss - s.prevLoss) < g.toleranceChange;
          return { d: dd, t: tt, flatGrad: fg, stop };
        });
        free(d, carried.d);
        free(t, carried.t);
        if (carried.flatGrad !== flatGrad) flatGrad.dispose();
        [d, t, flatGrad] = [carried.d, carried.t, carried.flatGrad];
        if (carried.stop) break;
      }
      flatGrad.dispose();
      // what the next step reads lives as long as the optimizer
      const held = <X extends Num | undefined>(x: X): X => (x instanceof Tensor ? keep(x) : x);
      s.d = replaced(s.d, held(d));
      s.t = replaced(s.t, held(t));
      return origLoss;
    });
  }

  /** Frees the history's tensors and empties it (a first iteration, or a state dict loaded over it). */
  private clearHistory(): void {
    const s = this.history;
    for (const t of [...s.oldDirs, ...s.oldStps, ...s.ro, ...s.al]) t?.dispose();
    if (s.hDiag instanceof Tensor) s.hDiag.dispose();
    [s.oldDirs, s.oldStps, s.ro, s.al, s.hDiag] = [[], [], [], [], 1];
  }
}
