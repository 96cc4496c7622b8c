// Context-awareness (DESIGN: Threads): the addon loads and trains in several worker_threads at once,
// each with its own per-environment state; a worker terminated mid-training does not take the process
// down; a tensor cannot cross to another thread (it arrives as plain data, and using it is a clear error).
// Workers run the compiled package (dist/, built by npm install).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const dist = path.resolve(__dirname, '../dist/index.js');

/** Runs a script in a fresh node process (so a crash is seen as a signal, not a dead test runner). */
function node(script: string) {
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
}

describe('worker threads', () => {
  it('several workers train at once; each sees only its own tensors', () => {
    expect(fs.existsSync(dist), 'dist/ is built by npm install (prepare)').toBe(true);
    const r = node(`
      const { Worker } = require('node:worker_threads');
      const body = \`
        const { parentPort, workerData } = require('node:worker_threads');
        const torch = require(${JSON.stringify(dist)});
        torch.manualSeed(workerData.seed);
        const model = new torch.nn.Sequential(new torch.nn.Linear(8, 16), new torch.nn.ReLU(), new torch.nn.Linear(16, 2));
        const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1 });
        const x = torch.randn(32, 8), y = torch.randint(0, 2, [32]);
        let first, last;
        for (let i = 0; i < 200; i++) torch.scope(() => {
          opt.zeroGrad();
          const loss = torch.nn.functional.crossEntropy(model(x), y);
          loss.backward(); opt.step();
          if (i === 0) first = loss.item(); last = loss.item();
        });
        parentPort.postMessage({ first, last, handles: torch.memory().handles });
      \`;
      const torch = require(${JSON.stringify(dist)});
      const mine = torch.ones(1000);
      const workers = [1, 2, 3].map((seed) => new Worker(body, { eval: true, workerData: { seed } }));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      Promise.all(workers.map((w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); })))
        .then((results) => {
          clearInterval(timer);
          const mainHandles = torch.memory().handles;
          console.log(JSON.stringify({ results, mainHandles, mainSum: mine.sum().item(), ticks }));
        });
    `);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.results).toHaveLength(3);
    for (const w of out.results) expect(w.last).toBeLessThan(w.first); // each trained
    expect(new Set(out.results.map((w: { first: number }) => w.first)).size).toBe(3); // own seeds, own state
    expect(out.mainSum).toBe(1000);
    expect(out.mainHandles).toBe(1); // the main thread counts only its own tensor, not the workers'
    expect(out.ticks).toBeGreaterThan(0); // the main event loop kept running
  });

  it('terminating a worker mid-training does not crash the process', () => {
    const r = node(`
      const { Worker } = require('node:worker_threads');
      const body = \`
        const torch = require(${JSON.stringify(dist)});
        const m = torch.models.seResNet18({ numClasses: 10, width: 16, se: { reduction: 4 } });
        const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1 });
        require('node:worker_threads').parentPort.postMessage('started');
        for (;;) torch.scope(() => { opt.zeroGrad(); m(torch.randn(4, 3, 32, 32)).sum().backward(); opt.step(); });
      \`;
      const workers = [new Worker(body, { eval: true }), new Worker(body, { eval: true })];
      Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))))
        .then(() => new Promise((res) => setTimeout(res, 300)))
        .then(() => Promise.all(workers.map((w) => w.terminate())))
        .then((codes) => {
          const torch = require(${JSON.stringify(dist)});
          console.log(JSON.stringify({ codes, after: torch.ones(3).sum().item() }));
        });
    `);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.codes).toEqual([1, 1]);
    expect(out.after).toBe(3);
  });

  it('terminating a worker while its off-thread training steps are in flight does not crash the process', () => {
    const r = node(`
      const { Worker } = require('node:worker_threads');
      const body = \`
        const torch = require(${JSON.stringify(dist)});
        const m = torch.models.seResNet18({ numClasses: 10, width: 16, stem: 'cifar', se: { reduction: 4 } });
        const trainer = new torch.train.Trainer({ model: m, optimizer: new torch.optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }), progress: false, handleSigint: false });
        trainer.on('offThread', (e) => require('node:worker_threads').parentPort.postMessage(e));
        const batches = { length: 1000, *[Symbol.iterator]() { for (let i = 0; i < 1000; i++) yield [torch.randn(16, 3, 32, 32), torch.randint(0, 10, [16])]; } };
        trainer.fit(batches, { epochs: 1 });
      \`;
      const workers = [new Worker(body, { eval: true }), new Worker(body, { eval: true })];
      Promise.all(workers.map((w) => new Promise((res) => w.once('message', res))))
        .then((events) => new Promise((res) => setTimeout(() => res(events), 500)))
        .then((events) => Promise.all(workers.map((w) => w.terminate())).then((codes) => [events, codes]))
        .then(([events, codes]) => {
          const torch = require(${JSON.stringify(dist)});
          console.log(JSON.stringify({ events, codes, after: torch.ones(3).sum().item() }));
        });
    `);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.events.map((e: { offThread: boolean }) => e.offThread)).toEqual([true, true]); // steps were running off-thread
    expect(out.codes).toEqual([1, 1]);
    expect(out.after).toBe(3);
  });

  it('a tensor posted to another thread arrives as plain data; using it there is a clear error', () => {
    const r = node(`
      const { Worker } = require('node:worker_threads');
      const torch = require(${JSON.stringify(dist)});
      const w = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        const torch = require(${JSON.stringify(dist)});
        parentPort.once('message', (t) => {
          let error = null;
          try { torch.ones(2).add(t); } catch (e) { error = e.constructor.name + ': ' + e.message; }
          parentPort.postMessage({ isTensor: t instanceof torch.Tensor, error, viaData: torch.tensor(t.data).sum().item() });
        });
      \`, { eval: true });
      const t = torch.arange(4, { dtype: 'float32' });
      w.postMessage({ ...t, data: t.data() });
      w.once('message', (m) => { console.log(JSON.stringify(m)); w.terminate(); });
    `);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.isTensor).toBe(false);
    expect(out.error).toMatch(/^TypeError: other must be a Tensor, number, boolean or bigint/);
    expect(out.viaData).toBe(6); // the way to move values: data() in, torch.tensor() out
  });
});
