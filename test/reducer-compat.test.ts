// native/reducer_compat.h picks c10d::Reducer's constructor form by what the LibTorch being built has.
// Only one LibTorch is here, so this compiles the header against a stand-in of each released form (the
// trailing arguments as in 2.9/2.10, 2.11 and 2.13/2.14, the leading nine as in ddp.cc) and checks the
// form each one got, with PyTorch's defaults. The stand-ins' own defaults differ from PyTorch's, so a
// defaulted argument that MakeReducer failed to pass shows. A form older than 2.9 must not compile.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const native = path.resolve(__dirname, '..', 'native');
// CXX may carry arguments (`ccache g++`), as the build's compiler may.
const [cxx, ...cxxArgs] = (process.env.CXX || 'c++').trim().split(/\s+/);

const STAND_INS = `
#include "reducer_compat.h"
#include <cstdio>
#include <string>
#include <unordered_map>
struct Tensor {};
struct Group {};
using Names = std::unordered_map<size_t, std::string>;
#define LEAD std::vector<Tensor>, std::vector<std::vector<size_t>>, std::shared_ptr<Group>, std::vector<bool>, \\
  int64_t bucketBytes, bool, bool, Names, int64_t firstBytes
#define SHOW(form, extra, ...) std::printf("%s bucket=%lld first=%lld skip=%d python=%d" extra "\\n", form, \\
  (long long)bucketBytes, (long long)firstBytes, skip, python, ##__VA_ARGS__)
struct R210 { R210(LEAD, bool skip, bool python) { SHOW("2.10", ""); } };
struct R211 { R211(LEAD, bool skip, bool python, std::vector<int64_t> caps) { SHOW("2.11", " caps=%zu", caps.size()); } };
struct R213 {
  R213(LEAD, bool skip, bool python, std::vector<int64_t> caps, bool batched = true) {
    SHOW("2.13", " caps=%zu batched=%d", caps.size(), batched);
  }
};
#ifdef OLDER
// Before 2.8: per-bucket size limits after the bucket indices, nothing after first_bucket_bytes_cap.
struct R27 { R27(std::vector<Tensor>, std::vector<std::vector<size_t>>, std::vector<size_t>, std::shared_ptr<Group>,
                 std::vector<bool>, int64_t, bool, bool, Names, int64_t) {} };
#endif
template <typename R> void make() {
  std::vector<Tensor> params(2);
  auto group = std::make_shared<Group>();
  int64_t bucketBytes = 25 << 20, firstBytes = 1 << 20;
  tn::MakeReducer<R>(params, std::vector<std::vector<size_t>>{{0, 1}}, group, std::vector<bool>(2), bucketBytes, false, false,
                     Names{}, firstBytes);
}
int main() {
  make<R210>();
  make<R211>();
  make<R213>();
#ifdef OLDER
  make<R27>();
#endif
}
`;

function compile(defines: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reducer-compat-'));
  fs.writeFileSync(path.join(dir, 'main.cc'), STAND_INS);
  const exe = path.join(dir, 'main');
  const r = spawnSync(cxx, [...cxxArgs, '-std=gnu++17', '-I', native, ...defines, '-o', exe, path.join(dir, 'main.cc')], { encoding: 'utf8' });
  return { ...r, exe, dir };
}

describe('c10d::Reducer constructor forms (native/reducer_compat.h)', () => {
  it("each release's form gets PyTorch's defaults for its trailing arguments", () => {
    const c = compile([]);
    expect(c.error, `the C++ compiler ${cxx} (set CXX to choose another)`).toBeUndefined();
    expect(c.status, c.stderr).toBe(0);
    const r = spawnSync(c.exe, { encoding: 'utf8' });
    fs.rmSync(c.dir, { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const lead = `bucket=${25 << 20} first=${1 << 20} skip=0 python=0`;
    expect(r.stdout.trim().split('\n')).toEqual([`2.10 ${lead}`, `2.11 ${lead} caps=0`, `2.13 ${lead} caps=0 batched=0`]);
  });

  it('a form older than 2.9 fails to compile with a message saying what is needed', () => {
    const c = compile(['-DOLDER']);
    fs.rmSync(c.dir, { recursive: true, force: true });
    expect(c.error, `the C++ compiler ${cxx} (set CXX to choose another)`).toBeUndefined();
    expect(c.status).not.toBe(0);
    expect(c.stderr).toContain('LibTorch 2.9 or later is needed');
  });
});
