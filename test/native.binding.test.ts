// The addon's functions are declared once, by hand, in lib/core/native.ts (NativeAddon, and the CUDA
// build's CudaBuildNative). This holds the declaration to the addon that is loaded: every function it
// exports is declared, and every declared function exists (the CUDA build's only in a CUDA build).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native, hasCudaCode } from '../lib/core/native';

const source = fs.readFileSync(path.join(__dirname, '../lib/core/native.ts'), 'utf8');
/** The member names of `export interface <name> … { … }` in native.ts. */
function members(name: string): string[] {
  const start = source.indexOf(`export interface ${name}`);
  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start));
  return [...body.matchAll(/^ {2}(\w+)\??\s*[(:<]/gm)].map((m) => m[1]);
}

describe('the one native declaration', () => {
  const declared = members('NativeAddon');
  const cudaOnly = members('CudaBuildNative');

  it('reads the declaration', () => {
    expect(declared.length).toBeGreaterThan(150);
    expect(cudaOnly).toContain('cudaDeviceName');
  });

  it('declares every function the loaded addon exports', () => {
    const exported = Object.keys(native);
    expect(exported.filter((k) => !declared.includes(k) && !cudaOnly.includes(k))).toEqual([]);
  });

  it('every declared function is in the loaded addon', () => {
    const exported = new Set(Object.keys(native));
    expect(declared.filter((k) => !exported.has(k))).toEqual([]);
    const cudaBuild = hasCudaCode(native);
    expect(cudaOnly.filter((k) => exported.has(k) !== cudaBuild)).toEqual([]);
  });
});
