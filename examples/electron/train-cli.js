'use strict';
// The example's worker under plain Node, without Electron: `node train-cli.js [maxSteps]` starts
// train-worker.js in a worker thread, as main.js does, and prints its messages (one JSON line each).
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const maxSteps = process.argv[2] ? Number(process.argv[2]) : undefined;
const worker = new Worker(path.join(__dirname, 'train-worker.js'), { workerData: maxSteps ? { maxSteps } : {} });
worker.on('message', (m) => console.log(JSON.stringify(m)));
worker.on('error', (e) => {
  console.error(e);
  process.exitCode = 1;
});
process.once('SIGINT', () => worker.postMessage({ type: 'stop' }));
