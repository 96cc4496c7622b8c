// The README's "At a glance" examples run as they are written (with `torch` the current lib/), each in a
// child process in an empty folder (they write files), and print what the README says they print.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, startChild } from './helpers/child';

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const section = /\n## At a glance\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs a README block: its `require('torchnode')` is the prelude's `torch` (the current lib/). */
async function runBlock(code: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchnode-readme-'));
  dirs.push(dir);
  const body = code.replace(/^const torch = require\('torchnode'\);.*$/m, '');
  expect(body).not.toMatch(/require\('torchnode'\)/);
  const r = await startChild(`process.chdir(${JSON.stringify(dir)});\n{\n${body}\n}`);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { stdout: r.stdout, files: fs.readdirSync(dir).sort() };
}

describe('README: At a glance', () => {
  it('has the examples', () => {
    expect(blocks).toHaveLength(2);
  });

  it('the first example trains a step, scopes, saves and loads', async () => {
    const { stdout, files } = await runBlock(blocks[0]);
    const [shape, sums] = stdout
      .trim()
      .split('\n')[0]
      .replace(/\s+/g, '')
      .split('][')
      .map((s) => s.replace(/[[\]]/g, ''));
    expect(shape).toBe('4,2');
    for (const v of sums.split(',').map(Number)) expect(v).toBeCloseTo(1, 6);
    expect(files).toEqual(['model.pt']);
  });

  it('the async example saves, loads and fits', async () => {
    const { stdout, files } = await runBlock(blocks[1]);
    expect(stdout.trim()).toBe('tensor([1., 1.]) true');
    expect(files).toEqual(['w.pt']);
  });
});
