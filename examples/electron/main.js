'use strict';
// Electron's main process: one window, and training in a worker thread (train-worker.js) so that neither
// this process's event loop nor the window waits on LibTorch. The worker's messages go to the window.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { app, BrowserWindow, ipcMain } = require('electron');

let win = null;
let worker = null;

function send(message) {
  if (win && !win.isDestroyed()) win.webContents.send('train:message', message);
}

ipcMain.handle('train:start', (_event, opts) => {
  if (worker) return false;
  worker = new Worker(path.join(__dirname, 'train-worker.js'), { workerData: opts || {} });
  worker.on('message', send);
  worker.on('error', (e) => send({ type: 'error', message: e.stack || String(e) }));
  worker.on('exit', () => {
    worker = null;
  });
  return true;
});
ipcMain.handle('train:stop', () => {
  if (worker) worker.postMessage({ type: 'stop' });
});

app.whenReady().then(() => {
  win = new BrowserWindow({
    width: 960,
    height: 640,
    title: 'torchnode: training in a worker',
    webPreferences: { preload: path.join(__dirname, 'preload.js'), contextIsolation: true, nodeIntegration: false },
  });
  win.loadFile(path.join(__dirname, 'index.html'));
});

app.on('window-all-closed', async () => {
  if (worker) await worker.terminate(); // safe mid-step: the addon is context-aware
  app.quit();
});
