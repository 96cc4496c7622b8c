/**
 * The Python PyTorch every test compares with (scripts/python.js): $TORCHNODE_PYTHON or python3 when
 * its PyTorch imports, else python3 with npm install's .libtorch/ on PYTHONPATH. Spawn `command` with
 * `env`. When there is none, this throws one error saying what to do, and only the tests that needed
 * Python fail, with that message.
 */
import { createRequire } from 'node:module';

export interface ReferencePython {
  command: string;
  env: NodeJS.ProcessEnv;
  torchDir: string;
  source: string;
}

const load = createRequire(__filename);
const finder = load('../../scripts/python.js') as { findReferencePython(o?: { packages?: string[] }): ReferencePython };

/** `packages`: Python packages besides torch the test compares with (installed into .reference/ if missing). */
export function referencePython(opts: { packages?: string[] } = {}): ReferencePython {
  return finder.findReferencePython(opts);
}
