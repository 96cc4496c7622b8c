// The CPU block cache (native/cpu_cache.cc): a freed tensor of 256 KiB or more keeps its memory for the
// next tensor of the same size, so a loop that makes the same large tensors each step stops
// page-faulting fresh memory from the system. Each case runs in a child process of its own: the cache
// is the process's, and its environment variable is read once.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startChild } from './helpers/child';

const MB = 1 << 20;

// Each child gets the cache's variable set as the case needs, never one inherited from this process.
async function child<T>(script: string, env: Record<string, string | undefined> = {}): Promise<T> {
  const r = await startChild(script, { env: { TORCHNODE_CPU_CACHE_MB: undefined, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

// Minor page faults of this process so far (field 10 of /proc/self/stat).
const FAULTS = `const faults = () => Number(require('fs').readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);`;

// 40 MB: above glibc's largest mmap threshold (32 MB), so without the cache every block is new memory.
const LOOP = `${FAULTS}
const step = () => { const t = torch.empty(10_000_000); t.fill_(1); const s = t.sum().item(); t.dispose(); return s; };
for (let i = 0; i < 3; i++) step();
const before = faults();
let sum = 0;
for (let i = 0; i < 20; i++) sum += step();
console.log(JSON.stringify({ perStep: (faults() - before) / 20, sum }));`;

// With transparent huge pages set to `always`, a fresh 40 MB mapping faults in 2 MB pages (about 20 a step).
const hugePagesAlways = (): boolean => {
  try {
    return fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[always]');
  } catch {
    return false;
  }
};

describe('the CPU block cache', () => {
  it.skipIf(process.platform !== 'linux' || hugePagesAlways())(
    'a loop making a 40 MB tensor each step touches no new pages; without the cache each step faults its 10k pages in (Linux, 4 KiB pages)',
    async () => {
      const cached = await child<{ perStep: number; sum: number }>(LOOP);
      const uncached = await child<{ perStep: number; sum: number }>(LOOP, { TORCHNODE_CPU_CACHE_MB: '0' });
      expect(cached.sum).toBe(20 * 10_000_000);
      expect(uncached.sum).toBe(20 * 10_000_000);
      expect(cached.perStep).toBeLessThan(100);
      expect(uncached.perStep).toBeGreaterThan(5000);
    },
  );

  it('keeps a freed block for the next tensor of its size; torch.memory() reports it and emptyCpuCache() frees it', async () => {
    const r = await child<{ start: object; kept: object; reused: boolean; small: object; emptied: object }>(`
const a = torch.empty(1_000_000);
const ptr = a.dataPtr();
const start = torch.memory().cpuCache;
a.dispose();
const kept = torch.memory().cpuCache;
const b = torch.empty(1_000_000);
const view = b.narrow(0, 10, 5);
const reused = b.dataPtr() === ptr && view.dataPtr() === ptr + 40;
view.dispose();
b.dispose();
torch.ones(1000).dispose();  // 4 kB: below 256 KiB, not kept
const small = torch.memory().cpuCache;
torch.emptyCpuCache();
console.log(JSON.stringify({ start, kept, reused, small, emptied: torch.memory().cpuCache }));`);
    expect(r.start).toEqual({ bytes: 0, blocks: 0, limit: 1024 * MB });
    expect(r.kept).toEqual({ bytes: 4_000_000, blocks: 1, limit: 1024 * MB });
    expect(r.reused).toBe(true);
    expect(r.small).toEqual({ bytes: 4_000_000, blocks: 1, limit: 1024 * MB });
    expect(r.emptied).toEqual({ bytes: 0, blocks: 0, limit: 1024 * MB });
  });

  it('keeps at most TORCHNODE_CPU_CACHE_MB, freeing the largest blocks first; 0 keeps none', async () => {
    const script = `
const ts = [torch.empty(1_000_000), torch.empty(2_000_000), torch.empty(3_000_000)];  // 4, 8 and 12 MB: the 12 MB block, freed last, makes room by freeing the 8 MB one
ts.forEach((t) => t.dispose());
console.log(JSON.stringify(torch.memory().cpuCache));`;
    expect(await child(script, { TORCHNODE_CPU_CACHE_MB: '20' })).toEqual({ bytes: 16_000_000, blocks: 2, limit: 20 * MB });
    expect(await child(script, { TORCHNODE_CPU_CACHE_MB: '0' })).toEqual({ bytes: 0, blocks: 0, limit: 0 });
  });

  it('a TORCHNODE_CPU_CACHE_MB that is not a whole number is named on stderr, and the default is used', async () => {
    const r = await startChild('console.log(JSON.stringify(torch.memory().cpuCache));', { env: { TORCHNODE_CPU_CACHE_MB: '-5' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("TORCHNODE_CPU_CACHE_MB must be a whole number of megabytes (got '-5'); using 1024");
    expect(JSON.parse(r.stdout)).toEqual({ bytes: 0, blocks: 0, limit: 1024 * MB });
  });
});
