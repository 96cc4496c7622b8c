'use strict';
// The window's only way to the main process: start, stop, and the worker's messages.
const { contextBridge, ipcRenderer } = require('electron');

contextBridge.exposeInMainWorld('training', {
  start: (opts) => ipcRenderer.invoke('train:start', opts),
  stop: () => ipcRenderer.invoke('train:stop'),
  onMessage: (callback) => ipcRenderer.on('train:message', (_event, message) => callback(message)),
});
