'use strict';
// The window: draws the loss of every step (and the running accuracy) as the worker reports them.
const canvas = document.getElementById('chart');
const ctx = canvas.getContext('2d');
const status = document.getElementById('status');
const startButton = document.getElementById('start');
const stopButton = document.getElementById('stop');
let points = []; // { x: global step, loss, accuracy }
let stepsPerEpoch = 1;
let totalSteps = 1;

function draw() {
  const w = canvas.width;
  const h = canvas.height;
  const pad = 60;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad, pad / 2, w - 1.5 * pad, h - 1.5 * pad);
  if (points.length === 0) return;
  const maxLoss = Math.max(...points.map((p) => p.loss), 1e-6);
  const x = (step) => pad + ((w - 1.5 * pad) * step) / Math.max(totalSteps, 1);
  const line = (value, color) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = 3;
    ctx.beginPath();
    points.forEach((p, i) => {
      const y = pad / 2 + (h - 1.5 * pad) * (1 - value(p));
      if (i === 0) ctx.moveTo(x(p.x), y);
      else ctx.lineTo(x(p.x), y);
    });
    ctx.stroke();
  };
  line((p) => p.loss / maxLoss, '#d33');
  line((p) => p.accuracy, '#36c');
  ctx.fillStyle = '#222';
  ctx.font = '24px system-ui';
  ctx.fillText(`loss (red, max ${maxLoss.toFixed(3)})   train accuracy (blue, 0–100%)`, pad, h - 12);
}

window.training.onMessage((m) => {
  if (m.type === 'start') {
    stepsPerEpoch = m.stepsPerEpoch;
    totalSteps = m.stepsPerEpoch * m.epochs;
    points = [];
    status.textContent = `LibTorch ${m.torchVersion} on ${m.device}, ${m.parameters.toLocaleString()} parameters`;
  } else if (m.type === 'step') {
    points.push({ x: (m.epoch - 1) * stepsPerEpoch + m.step, loss: m.batchLoss, accuracy: m.accuracy });
    status.textContent = `epoch ${m.epoch}/${m.epochs}  step ${m.step}/${m.steps}  loss ${m.loss.toFixed(4)}  ` +
      `accuracy ${(m.accuracy * 100).toFixed(1)}%  ${m.imagesPerSecond.toFixed(0)} images/s  eta ${m.etaSeconds.toFixed(0)} s`;
    draw();
  } else if (m.type === 'epoch') {
    status.textContent = `epoch ${m.epoch}: train accuracy ${(m.trainAccuracy * 100).toFixed(2)}%, ` +
      `test accuracy ${(m.testAccuracy * 100).toFixed(2)}%`;
  } else if (m.type === 'done' || m.type === 'error') {
    if (m.type === 'error') status.textContent = `error: ${m.message}`;
    else if (m.stopped) status.textContent += ' (stopped)';
    startButton.disabled = false;
    stopButton.disabled = true;
  }
});

startButton.addEventListener('click', async () => {
  if (await window.training.start({ epochs: 2 })) {
    startButton.disabled = true;
    stopButton.disabled = false;
  }
});
stopButton.addEventListener('click', () => window.training.stop());
draw();
