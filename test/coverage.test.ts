// How much of PyTorch's public, ATen-backed API torchnode offers, counted from the Python install (not
// from a list typed here): torch.* functions from torch._C._VariableFunctions, Tensor methods that are
// ATen operators, and torch.linalg / fft / special. What the generator leaves out on purpose is listed.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as torch from '../lib';
import { camelCase } from '../lib/schema';
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

describe('coverage of PyTorch\'s ATen-backed API', () => {
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
    console.log(`torchnode's share of PyTorch's ATen-backed API:\n${lines.join('\n')}\noverall  ${have}/${total} (${((100 * have) / total).toFixed(1)}%)`);
    console.log(`not yet offered:\n${Object.entries(missing).map(([s, n]) => `  ${s}: ${n.join(', ')}`).join('\n')}`);
    console.log(`left out on purpose:\n${Object.entries(leftOut).map(([why, n]) => `  ${why}: ${n.length} (${n.slice(0, 8).join(', ')}…)`).join('\n')}`);
    for (const space of ['linalg', 'fft', 'special']) expect(missing[space], `torch.${space}`).toEqual([]);
    expect(have / total).toBeGreaterThanOrEqual(0.9);
  });
});
