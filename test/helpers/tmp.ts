/** A temporary folder for one test file: made before its tests, removed after them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Returns `file(name)`: the path of `name` in the folder (the folder itself without a name). */
export function useTempDir(prefix: string): (name?: string) => string {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return (name = '') => {
    if (!dir) throw new Error('useTempDir(): the folder is made in beforeAll (call file() inside a test)');
    return path.join(dir, name);
  };
}
