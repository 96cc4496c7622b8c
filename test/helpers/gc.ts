/**
 * A forced garbage collection inside the test process: global.gc when vitest runs with --expose-gc,
 * else the flag turned on at run time (v8.setFlagsFromString + vm.runInNewContext('gc'), Node 18+).
 * `collect()` collects and lets Node-API run what it deferred to the event loop (finalizers on a Node
 * that does not run them inside the collection), so torch.memory() then counts only what is alive.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

export const gc = getGc();
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function collect(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc?.();
    await tick();
  }
}
