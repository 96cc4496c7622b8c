// The `torchnode` command as a user runs it (the compiled dist/cli/index.js, which npm install builds):
// help, bad flags, and train → eval → predict → summary on small data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as torch from '../lib/index';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli', 'index.js');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
}

describe('torchnode CLI', () => {
  it('is built by npm install and lists its commands', () => {
    expect(fs.existsSync(cli), 'dist/cli/index.js comes from npm install (prepare)').toBe(true);
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const c of ['train', 'eval', 'predict', 'summary']) expect(r.stdout).toContain(c);
  });

  it.each(['train', 'eval', 'predict', 'summary', 'graph'])('%s --help prints its options', (cmd) => {
    const r = run(cmd, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`torchnode ${cmd}`);
  });

  it('bad commands and flags exit 2 with a message and the usage', () => {
    expect(run('fly').status).toBe(2);
    const bad = run('train', '--model', 'vgg16');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--model must be one of/);
    expect(run('train', '--epochs', 'many').stderr).toMatch(/--epochs must be an integer/);
    expect(run('train', '--step-size', 'soon').stderr).toMatch(/--step-size must be an integer \(got soon\)/);
    expect(run('train', '--step-size', '0').stderr).toMatch(/--step-size must be at least 1/);
    expect(run('train', '--bogus').status).toBe(2);
    expect(run('train', '--off-thread', '--no-off-thread').stderr).toMatch(/--off-thread and --no-off-thread contradict/);
    expect(run('summary', '--input', '1,3').stderr).toMatch(/--input must be N,C,H,W/);
  });

  it('graph writes the autograd graph as SVG, DOT or JSON', () => {
    const svg = path.join(dir, 'graph.svg');
    const r = run('graph', '--model', 'se_resnet18', '--width', '16', '--input', '1,3,32,32', '--out', svg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/se_resnet18: \d+ autograd nodes, \d+ edges; wrote .*graph\.svg/);
    const text = fs.readFileSync(svg, 'utf8');
    for (const label of ['<svg', 'ConvolutionBackward0', 'AddmmBackward0', 'layer4.1.se.fc2.weight', 'fc.bias']) expect(text).toContain(label);
    expect(run('graph', '--out', path.join(dir, 'graph.dot')).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'graph.dot'), 'utf8')).toMatch(/^digraph \{/);
    expect(run('graph', '--show-attrs', '--show-saved', '--out', path.join(dir, 'saved.dot')).status).toBe(0);
    const saved = fs.readFileSync(path.join(dir, 'saved.dot'), 'utf8');
    expect(saved).toMatch(/ConvolutionBackward0\\n-+\\nbias_sym_sizes_opt: +\(0,\)\\ndilation/); // no bias: Python shows (0,) too
    expect(saved).toContain('fillcolor=orange');
    expect(run('graph', '--model', 'resnet18', '--out', path.join(dir, 'graph.json')).status).toBe(0);
    const data = JSON.parse(fs.readFileSync(path.join(dir, 'graph.json'), 'utf8')) as torch.viz.Graph;
    expect(data.nodes[0]).toEqual({ kind: 'output', name: '', shape: [1, 10] });
    const bad = run('graph', '--out', path.join(dir, 'graph.png'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--out must end in \.svg, \.dot or \.json/);
  });

  it('summary prints the layer table', () => {
    const r = run('summary', '--model', 'se_resnet50', '--input', '1,3,64,64', '--classes', '10');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Total params: 26,059,514');
  });

  // `train` on the synthetic dataset with a small SE-ResNet-18, `epochs` epochs, into `out`, then `more` flags
  const trainSynthetic = (epochs: number, out: string, ...more: string[]) =>
    run(
      'train',
      '--dataset',
      'synthetic',
      '--model',
      'se_resnet18',
      '--width',
      '8',
      '--reduction',
      '4',
      '--epochs',
      String(epochs),
      '--batch-size',
      '32',
      '--device',
      'cpu',
      '--out',
      out,
      ...more,
    );

  it('train on synthetic data writes the run; eval and predict use its checkpoint', async () => {
    const out = path.join(dir, 'run');
    const t = trainSynthetic(2, out, '--seed', '1');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toContain('steps run off the JS thread, traced'); // the default
    for (const f of [
      'history.json',
      'history.csv',
      'curve.svg',
      'curve.html',
      'checkpoint.pt',
      'run.json',
      'confusion.svg',
      'confusion.html',
      'se-weights.svg',
      'se-weights.html',
    ]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    expect(JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8'))).toHaveLength(2);
    expect(t.stdout).toMatch(/test accuracy \d+\.\d+%/);
    const e = run('eval', '--checkpoint', out, '--dataset', 'synthetic', '--device', 'cpu');
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/synthetic: \d+ images, loss \d+\.\d+, accuracy \d+\.\d+%/);
    expect(e.stdout).toMatch(/confusion\.svg and se-weights\.svg in .*run/);
    const evalOut = path.join(dir, 'eval-charts');
    expect(run('eval', '--checkpoint', out, '--dataset', 'synthetic', '--device', 'cpu', '--out', evalOut).status).toBe(0);
    expect(fs.readdirSync(evalOut).sort()).toEqual(['confusion.html', 'confusion.svg', 'se-weights.html', 'se-weights.svg']);
    const resumed = trainSynthetic(3, out, '--resume', out, '--no-off-thread');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toContain('steps run off the JS thread');
    const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')) as { lr: number }[];
    // --step-size auto: one decay after two thirds of the run (2 epochs: after 2)
    expect(history.map((r) => r.lr)).toEqual([0.1, 0.1, 0.1 * 0.1]);

    // predict: image files → top-k classes with probabilities
    const sharp = (await import('sharp')).default;
    const png = path.join(dir, 'img.png');
    await sharp(Buffer.alloc(40 * 40 * 3, 90), { raw: { width: 40, height: 40, channels: 3 } })
      .png()
      .toFile(png);
    const p = run('predict', '--checkpoint', out, '--dataset', 'synthetic', '--top', '3', '--device', 'cpu', png);
    expect(p.status, p.stderr).toBe(0);
    const m = /img\.png: (\d+) ([\d.]+)%, (\d+) ([\d.]+)%, (\d+) ([\d.]+)%/.exec(p.stdout);
    expect(m, p.stdout).not.toBeNull();
    const probs = [m![2], m![4], m![6]].map(Number);
    expect(probs[0]).toBeGreaterThanOrEqual(probs[1]);
    expect(probs[1]).toBeGreaterThanOrEqual(probs[2]);
    expect(run('predict', '--checkpoint', out, '--dataset', 'synthetic', path.join(dir, 'missing.png')).stderr).toMatch(/missing\.png/);

    // eval and predict default to the run's own dataset (its run.json), not mnist
    const byRun = run('eval', '--checkpoint', out, '--device', 'cpu');
    expect(byRun.status, byRun.stderr).toBe(0);
    expect(byRun.stdout).toMatch(/^synthetic: /);
    expect(run('predict', '--checkpoint', out, png).status).toBe(0);

    // A refused command leaves the finished run as it was: nothing is written before the flags are checked,
    // and a resume that fails does not rewrite run.json.
    const runJson = fs.readFileSync(path.join(out, 'run.json'), 'utf8');
    const refused = [
      ['--epochs', '0'],
      ['--epochs', 'NaN'],
      ['--device', 'tpu'],
      ['--resume', path.join(dir, 'nowhere')],
      ['--model', 'resnet18', '--resume', out],
    ];
    for (const extra of refused) {
      const r = run('train', '--dataset', 'synthetic', '--width', '16', '--epochs', '4', '--out', out, ...extra);
      expect(r.status, extra.join(' ')).not.toBe(0);
      expect(fs.readFileSync(path.join(out, 'run.json'), 'utf8'), extra.join(' ')).toBe(runJson);
    }
    expect(run('train', '--device', 'tpu').stderr).toMatch(/--device must be 'cpu', 'cuda' or 'cuda:N' \(got 'tpu'\)/);
    expect(run('predict', '--checkpoint', out, '--top', '0', png).stderr).toMatch(/--top must be at least 1/);
    expect(run('eval', '--checkpoint', out, '--device', 'tpu').stderr).toMatch(/--device must be/);
    const damaged = path.join(dir, 'damaged');
    fs.mkdirSync(damaged);
    fs.copyFileSync(path.join(out, 'checkpoint.pt'), path.join(damaged, 'checkpoint.pt'));
    fs.writeFileSync(path.join(damaged, 'run.json'), '{"model": "se_resn');
    expect(run('eval', '--checkpoint', damaged).stderr).toContain(`${path.join(damaged, 'run.json')} is damaged`);
  }, 300_000);
});
