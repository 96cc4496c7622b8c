// How much of PyTorch's public, ATen-backed API torchnode offers, counted from the Python install (not
// from a list typed here): torch.* functions from torch._C._VariableFunctions, Tensor methods that are
// ATen operators, and torch.linalg / fft / special. What the generator leaves out on purpose is listed.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { camelCase } from '../lib/core/schema';
import { referencePython } from './helpers/python';

const SURFACE = `
import json, torch
aten = set(n[6:].split('.')[0] for n in torch._C._dispatch_get_all_op_names() if n.startswith('aten::'))
public = lambda names: sorted(n for n in names if not n.startswith('_'))
out = {
  'torch': public(n for n in dir(torch._C._VariableFunctions) if hasattr(torch, n)),
  'Tensor': public(n for n in dir(torch._C.TensorBase) if n in aten or n.rstrip('_') in aten),
}
for space in ('linalg', 'fft', 'special'):
  mod = getattr(torch, space)
  names = (n[len(space) + 1:] for n in dir(getattr(torch._C, '_' + space)) if n.startswith(space + '_'))
  out[space] = public(n for n in names if hasattr(mod, n))
out['version'] = torch.__version__
print(json.dumps(out))
`;

// The generator's own list of what it leaves out on purpose (sparse, quantized, named and nested tensors).
const gen = createRequire(__filename)('../scripts/gen/surface.js') as {
  leftOutReason(name: string): string | undefined;
  pinnedNames(): Set<string>;
  PYTORCH_VERSION: string;
};
const { leftOutReason } = gen;

function offered(space: string, name: string): boolean {
  const js = camelCase(name);
  const t = torch as unknown as Record<string, Record<string, unknown>>;
  if (space === 'torch') return typeof t[js] === 'function';
  if (space === 'Tensor') return js in torch.Tensor.prototype;
  return typeof t[space]?.[js] === 'function';
}

describe("coverage of PyTorch's ATen-backed API", () => {
  it('lib/generated/ is what scripts/gen/surface.js makes from the pinned schema', () => {
    const r = spawnSync(process.execPath, ['scripts/gen/surface.js', '--check'], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('offers ≥ 90% overall and all of linalg, fft and special', () => {
    const py = referencePython();
    const r = spawnSync(py.command, ['-c', SURFACE], { env: py.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { version, ...surface } = JSON.parse(r.stdout) as Record<string, string[]> & { version: string };
    // Names a newer Python has that the pinned schema does not are the next regeneration's: reported, not
    // counted (the surface is generated from PyTorch ${gen.PYTORCH_VERSION}'s schema, the Python here may be newer).
    const pinned = gen.pinnedNames();
    const newer: string[] = [];
    for (const [space, names] of Object.entries(surface)) {
      surface[space] = names.filter((n) => {
        // what torchnode offers counts whatever its source (the names Python binds by hand are in no schema)
        const known = pinned.has(`${space}.${n}`) || version.startsWith(gen.PYTORCH_VERSION.replace(/\.0$/, '')) || offered(space, n);
        if (!known) newer.push(`${space}.${n}`);
        return known;
      });
    }
    if (newer.length) console.log(`in PyTorch ${version} but not in the pinned schema (${gen.PYTORCH_VERSION}): ${newer.join(', ')}`);
    let total = 0;
    let have = 0;
    const lines: string[] = [];
    const missing: Record<string, string[]> = {};
    const leftOut: Record<string, string[]> = {};
    for (const [space, names] of Object.entries(surface)) {
      const counted = names.filter((n) => !leftOutReason(n));
      const got = counted.filter((n) => offered(space, n));
      missing[space] = counted.filter((n) => !offered(space, n));
      for (const n of names.filter(leftOutReason)) (leftOut[leftOutReason(n)!] ??= []).push(`${space}.${n}`);
      total += counted.length;
      have += got.length;
      lines.push(`${space.padEnd(8)} ${got.length}/${counted.length} (${((100 * got.length) / counted.length).toFixed(1)}%)`);
    }
    console.log(
      `torchnode's share of PyTorch's ATen-backed API:\n${lines.join('\n')}\noverall  ${have}/${total} (${((100 * have) / total).toFixed(1)}%)`,
    );
    console.log(
      `not yet offered:\n${Object.entries(missing)
        .map(([s, n]) => `  ${s}: ${n.join(', ')}`)
        .join('\n')}`,
    );
    console.log(
      `left out on purpose:\n${Object.entries(leftOut)
        .map(([why, n]) => `  ${why}: ${n.length} (${n.slice(0, 8).join(', ')}…)`)
        .join('\n')}`,
    );
    for (const space of ['linalg', 'fft', 'special']) expect(missing[space], `torch.${space}`).toEqual([]);
    expect(have / total).toBeGreaterThanOrEqual(0.9);
  });
});

// torch.nn and torch.optim, counted from the Python install the same way: the nn modules, nn.functional,
// the optimizers and schedulers, nn.init and nn.utils (with nn.utils.rnn). A name counts when torchnode
// offers it under its camelCase name. Left out, with the reason printed: Python's own plumbing.
const LIBRARY = `
import json, inspect, torch, torch.nn as nn, torch.nn.functional as F, torch.optim as O, torch.optim.lr_scheduler as L, torch.nn.init as I, torch.nn.utils as U
pub = lambda ns: sorted(n for n in dir(ns) if not n.startswith('_'))
fn = lambda ns, n: callable(getattr(ns, n)) and not inspect.isclass(getattr(ns, n)) and not inspect.ismodule(getattr(ns, n))
print(json.dumps({
  'nn': [n for n in pub(nn) if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)],
  'nn.functional': [n for n in pub(F) if fn(F, n)],
  'optim': [n for n in pub(O) if inspect.isclass(getattr(O, n)) and issubclass(getattr(O, n), O.Optimizer)],
  'optim.lrScheduler': [n for n in pub(L) if inspect.isclass(getattr(L, n)) and (issubclass(getattr(L, n), L.LRScheduler) or n == 'ReduceLROnPlateau')],
  'nn.init': [n for n in pub(I) if fn(I, n) and getattr(I, n).__module__ == 'torch.nn.init'],
  'nn.utils': [n for n in pub(U) if fn(U, n)],
  'nn.utils.rnn': [n for n in pub(U.rnn) if callable(getattr(U.rnn, n)) and getattr(U.rnn, n).__module__ == 'torch.nn.utils.rnn'],
}))
`;
const PLUMBING: Record<string, string> = {
  'nn.Container': "Python's deprecated module base (before Module)",
  'nn.functional.Optional': 'a typing import',
  'nn.functional.assert_int_or_pair': "Python's argument check",
  'nn.functional.boolean_dispatch': "Python's overload helper",
  'nn.functional.handle_torch_function': "Python's __torch_function__ protocol",
  'nn.functional.has_torch_function': "Python's __torch_function__ protocol",
  'nn.functional.has_torch_function_unary': "Python's __torch_function__ protocol",
  'nn.functional.has_torch_function_variadic': "Python's __torch_function__ protocol",
  'nn.utils.rnn.bind': "Python's method-binding helper",
  'nn.utils.rnn.PackedSequence_': "PackedSequence's namedtuple base",
};

describe('coverage of torch.nn and torch.optim', () => {
  it('offers ≥ 90% of nn, nn.functional, optim, lr_scheduler, nn.init and nn.utils each', () => {
    const py = referencePython();
    const r = spawnSync(py.command, ['-c', LIBRARY], { env: py.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const surface = JSON.parse(r.stdout) as Record<string, string[]>;
    const lines: string[] = [];
    const shares: Record<string, number> = {};
    for (const [space, names] of Object.entries(surface)) {
      const ns = space
        .split('.')
        .reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, torch as unknown as Record<string, unknown>);
      const counted = names.filter((n) => !PLUMBING[`${space}.${n}`]);
      const missing = counted.filter((n) => !(n in ns) && !(camelCase(n) in ns));
      shares[space] = (counted.length - missing.length) / counted.length;
      lines.push(
        `${space.padEnd(18)} ${counted.length - missing.length}/${counted.length} (${(100 * shares[space]).toFixed(1)}%)` +
          `${missing.length ? `  not yet: ${missing.join(', ')}` : ''}`,
      );
    }
    console.log(
      `torchnode's share of torch.nn and torch.optim:\n${lines.join('\n')}\nleft out: ${Object.entries(PLUMBING)
        .map(([n, why]) => `${n} (${why})`)
        .join('; ')}`,
    );
    for (const [space, share] of Object.entries(shares)) expect(share, space).toBeGreaterThanOrEqual(0.9);
  });
});
