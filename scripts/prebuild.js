'use strict';
// `npm run prebuild`: makes the prebuilt binary for this platform with prebuildify (Node-API, stripped),
// compiled with cmake-js through scripts/prebuild-gyp.js (prebuildify's --node-gyp), into
// prebuilds/<platform>-<arch>/torchnode.node with torchnode.json (the LibTorch it needs) next to it.
// Extra arguments go to prebuildify. TORCHNODE_PREBUILD_FROM=build/Release packages an existing build.
//
// npm also runs a script named "prebuild" before `npm run build` (its pre-hook rule); then this does
// nothing, so `npm run build` stays a plain build.

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

/** Whether npm runs this as the pre-hook of `npm run build` (npm titles its process "npm run build"). */
function isHookOfBuild() {
  if (process.env.npm_lifecycle_event !== 'prebuild') return false;
  const ps = (field, pid) => spawnSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const parentOf = (pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return Number(ps('ppid', pid)) || 0;
    }
  };
  const commandOf = (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return ps('args', pid);
    }
  };
  // this node <- the shell npm starts <- npm
  const npmPid = parentOf(process.ppid);
  return npmPid > 0 && /\bnpm(?:-cli\.js)?\s+(?:run|run-script|rum|urn)\s+(?:.*\s)?build(?:\s|$)/.test(commandOf(npmPid));
}

if (isHookOfBuild()) process.exit(0);

// prebuildify puts node's own folder first on PATH (npm-run-path), where a python3 without PyTorch may
// shadow the one of this PATH: pin the LibTorch search to the python3 found here.
const env = { ...process.env };
if (!env.LIBTORCH && !env.TORCHNODE_PYTHON) {
  const py = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  if (py.status === 0 && py.stdout.trim()) env.TORCHNODE_PYTHON = py.stdout.trim();
}

const root = path.resolve(__dirname, '..');
const r = spawnSync(
  process.execPath,
  [require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--node-gyp', path.join(__dirname, 'prebuild-gyp.js'), ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(r.status ?? 1);
