/**
 * The optimizer tests' problem, the same in Node and in Python: a linear model from fixed start weights,
 * loss = mean((xWᵀ + b − y)²). `data` is what the Python code (PY_MODEL) reads: X, Y, W0, B0.
 */
import * as torch from '../../lib/index';

export function linearProblem(seed: number) {
  torch.manualSeed(seed);
  const data = { X: torch.randn(16, 5), Y: torch.randn(16, 3), W0: torch.randn(3, 5), B0: torch.randn(3) };
  const model = () => {
    const m = new torch.nn.Linear(5, 3);
    torch.noGrad(() => {
      m.weight.copy_(data.W0);
      m.bias!.copy_(data.B0);
    });
    return m;
  };
  const lossStep = (m: torch.nn.Linear, opt: torch.optim.Optimizer<{ lr: number }>) => {
    torch.scope(() => {
      opt.zeroGrad();
      m(data.X).sub(data.Y).pow(2).mean().backward();
      opt.step();
    });
  };
  return { data, model, lossStep };
}

export const PY_MODEL = `m = torch.nn.Linear(5, 3)
with torch.no_grad():
    m.weight.copy_(W0); m.bias.copy_(B0)
def loss_step(opt):
    opt.zero_grad()
    ((m(X) - Y) ** 2).mean().backward()
    opt.step()
`;
