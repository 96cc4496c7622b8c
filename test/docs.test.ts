// `npm run docs` (typedoc, typedoc.json) builds the API reference without a warning: every type a public
// signature names is itself documented (exported), and every {@link} resolves. Nothing is written here.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..');

describe('API reference (typedoc)', () => {
  it('builds from the source comments with no warning', () => {
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none', '--treatWarningsAsErrors'], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = r.stdout + r.stderr;
    expect(out).not.toMatch(/\[warning\]|\[error\]/);
    expect(r.status, out).toBe(0);
  });
});
