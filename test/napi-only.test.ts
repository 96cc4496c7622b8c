// The addon is Node-API only, so the one binary loads in any Node >= 18 and in Electron (whose V8 and
// node:: symbols differ from Node's): its sources include no V8, NAN or node.h headers, and the built
// addon (the one torchnode loads: a source build, else the prebuild) needs no V8 or node:: symbol from its
// host, only napi_* / node_api_* ones.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..');

const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

const FORBIDDEN_HEADER = /^\s*#\s*include\s*[<"]\s*(v8[^>"]*|nan|node|node_object_wrap|node_buffer|uv)\.h\s*[>"]/m;

describe('Node-API only (what lets the addon load in Electron)', () => {
  it('native/ includes no V8, NAN, node.h or libuv header', () => {
    const files = fs.readdirSync(path.join(REPO, 'native'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(cc|h|hpp|cpp)$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((f) => FORBIDDEN_HEADER.test(fs.readFileSync(path.join(REPO, 'native', f), 'utf8')));
    expect(offenders).toEqual([]);
    // the pattern is a real check: it catches each form it names
    for (const line of ['#include <v8.h>', '#include "nan.h"', '# include <node.h>', '#include <v8-isolate.h>']) {
      expect(FORBIDDEN_HEADER.test(line), line).toBe(true);
    }
    expect(FORBIDDEN_HEADER.test('#include <napi.h>')).toBe(false);
  });

  it('the addon needs no V8 or node:: symbol from its host, only Node-API', () => {
    const addon = nodeGypBuild.path(REPO);
    const nm = spawnSync('nm', ['-D', '--undefined-only', '--demangle', addon], { encoding: 'utf8' });
    expect(nm.status, nm.stderr).toBe(0);
    const undefinedSymbols = nm.stdout
      .split('\n')
      .map((l) => l.trim().replace(/^[Uw]\s+/, ''))
      .filter(Boolean);
    const napi = undefinedSymbols.filter((s) => /^(napi|node_api)_/.test(s));
    expect(napi.length, `${addon} imports Node-API`).toBeGreaterThan(20);
    expect(napi).toContain('napi_create_function');
    const fromHost = (s: string) => /\bv8::|\bnode::|\bNan::|^_ZN2v8|^_ZN4node|^uv_/.test(s);
    expect(undefinedSymbols.filter(fromHost)).toEqual([]);
    // the filter is a real check: it catches what a V8/NAN addon imports, and not LibTorch's names
    for (const s of [
      'v8::Isolate::GetCurrent()',
      'node::Buffer::New(v8::Isolate*, unsigned long)',
      'Nan::CopyBuffer(char const*, unsigned int)',
      'uv_default_loop',
    ]) {
      expect(fromHost(s), s).toBe(true);
    }
    expect(undefinedSymbols.filter((s) => s.startsWith('torch::jit::Node::') || s.startsWith('c10::')).length).toBeGreaterThan(0);
    expect(fromHost('torch::jit::Node::kind() const')).toBe(false);
  });
});
