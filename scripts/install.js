'use strict';
// `npm install` entry: builds the native addon from source against the LibTorch found on this machine.
require('./build-native');
