/**
 * A run's charts as self-contained SVG, or an HTML page around each: the learning curve (train/test
 * accuracy and loss per epoch), the confusion matrix of an evaluation, and the SE gates' channel weights.
 */
import type { EpochRecord } from './history';

interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

const W = 420;
const H = 280;
const M = { left: 52, right: 16, top: 30, bottom: 40 };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  // Counted, not accumulated: t += step stops moving when step is below the spacing of floats near lo.
  const first = Math.ceil(lo / step);
  const n = Math.min(20, Math.floor(hi / step + 1e-9) - first + 1);
  const ticks: number[] = [];
  for (let i = 0; i < n; i++) ticks.push(Number(((first + i) * step).toPrecision(12)));
  return [...new Set(ticks)];
}

/** One panel: x = epoch, y = the series, with axes, ticks and a legend. */
function panel(title: string, epochs: number[], series: Series[], x0: number, yLabel: string, legendAtTop: boolean): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  // A flat series (to the float precision of its size) gets a band around it.
  const scale = Math.max(1, Math.abs(lo), Math.abs(hi));
  if (hi - lo < 1e-9 * scale) {
    lo -= 0.5 * scale * 1e-3 + 0.5;
    hi += 0.5 * scale * 1e-3 + 0.5;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const first = epochs[0] ?? 1;
  const last = epochs[epochs.length - 1] ?? 1;
  const sx = (e: number) => x0 + M.left + ((e - first) / Math.max(1, last - first)) * (W - M.left - M.right);
  const sy = (v: number) => M.top + (1 - (v - lo) / (hi - lo)) * (H - M.top - M.bottom);
  const out: string[] = [`<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  out.push(`<line x1="${x0 + M.left}" y1="${H - M.bottom}" x2="${x0 + W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${x0 + M.left}" y1="${M.top}" x2="${x0 + M.left}" y2="${H - M.bottom}" stroke="#333"/>`);
  for (const t of niceTicks(lo, hi)) {
    out.push(`<line x1="${x0 + M.left}" y1="${sy(t)}" x2="${x0 + W - M.right}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + M.left - 6}" y="${sy(t) + 4}" text-anchor="end">${Number(t.toPrecision(4))}</text>`);
  }
  const epochTicks = epochs.length <= 12 ? epochs : niceTicks(first, last).filter((t) => Number.isInteger(t));
  for (const e of epochTicks) out.push(`<text x="${sx(e)}" y="${H - M.bottom + 16}" text-anchor="middle">${e}</text>`);
  out.push(`<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`);
  out.push(`<text transform="translate(${x0 + 14},${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, k) => {
    const pts = epochs.map((e, i) => [e, s.values[i]] as const).filter(([, v]) => v !== null && Number.isFinite(v));
    if (pts.length) {
      const d = pts.map(([e, v], i) => `${i ? 'L' : 'M'}${sx(e).toFixed(1)},${sy(v as number).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      for (const [e, v] of pts) out.push(`<circle cx="${sx(e).toFixed(1)}" cy="${sy(v as number).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
    // The legend goes where the curves are not: accuracy rises (legend low), loss falls (legend high).
    const ly = legendAtTop ? M.top + 8 + k * 16 : H - M.bottom - 12 - (series.length - 1 - k) * 16;
    out.push(`<line x1="${x0 + W - M.right - 92}" y1="${ly}" x2="${x0 + W - M.right - 76}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${x0 + W - M.right - 72}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Two panels side by side: accuracy (%) and loss per epoch, train and test. */
export function learningCurveSvg(history: EpochRecord[], title = 'Learning curve'): string {
  const epochs = history.map((r) => r.epoch);
  const acc = panel(
    `${title}: accuracy`,
    epochs,
    [
      { name: 'train', color: '#1f77b4', values: history.map((r) => r.trainAccuracy * 100) },
      { name: 'test', color: '#ff7f0e', values: history.map((r) => (r.testAccuracy === null ? null : r.testAccuracy * 100)) },
    ],
    0,
    'accuracy (%)',
    false,
  );
  const loss = panel(
    `${title}: loss`,
    epochs,
    [
      { name: 'train', color: '#1f77b4', values: history.map((r) => r.trainLoss) },
      { name: 'test', color: '#ff7f0e', values: history.map((r) => r.testLoss) },
    ],
    W,
    'loss',
    true,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" viewBox="0 0 ${2 * W} ${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${acc}
${loss}
</svg>
`;
}

/** A self-contained HTML page with the chart and the table of epochs. */
export function learningCurveHtml(history: EpochRecord[], title = 'Learning curve'): string {
  const pct = (v: number | null) => (v === null ? '' : (v * 100).toFixed(2) + '%');
  const rows = history
    .map(
      (r) =>
        `<tr><td>${r.epoch}</td><td>${r.lr}</td><td>${r.trainLoss.toFixed(4)}</td><td>${pct(r.trainAccuracy)}</td>` +
        `<td>${r.testLoss === null ? '' : r.testLoss.toFixed(4)}</td><td>${pct(r.testAccuracy)}</td><td>${r.seconds.toFixed(1)}</td></tr>`,
    )
    .join('\n');
  return page(
    title,
    learningCurveSvg(history, title),
    `<table><tr><th>epoch</th><th>lr</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>seconds</th></tr>\n${rows}\n</table>`,
  );
}

function page(title: string, svg: string, table = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head>
<body><h1>${esc(title)}</h1>
${svg}
${table}</body></html>
`;
}

/**
 * A confusion matrix: rows the true classes, columns the predicted ones, each cell shaded by the share of
 * its row and labelled with its count.
 */
export function confusionMatrixSvg(matrix: number[][], classes: string[], title = 'Confusion matrix'): string {
  const k = classes.length;
  const cell = Math.max(18, Math.min(44, Math.floor(440 / Math.max(k, 1))));
  const left = 110;
  const top = 110; // room for the title, 'predicted' and the slanted class names
  const width = left + k * cell + 20;
  const height = top + k * cell + 50;
  const total = matrix.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const right = matrix.reduce((s, row, i) => s + (row[i] ?? 0), 0);
  const label = (s: string) => esc(s.length > 14 ? `${s.slice(0, 13)}…` : s);
  const out: string[] = [
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}: ${right} of ${total} right (${total ? ((100 * right) / total).toFixed(2) : '0.00'}%)</text>`,
    `<text x="${left + (k * cell) / 2}" y="36" text-anchor="middle">predicted</text>`,
    `<text transform="translate(14,${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle">true</text>`,
  ];
  matrix.forEach((row, i) => {
    const sum = row.reduce((a, b) => a + b, 0);
    out.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${label(classes[i])}</text>`);
    row.forEach((n, j) => {
      const share = sum ? n / sum : 0;
      const shade = Math.round(255 - share * 200);
      out.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>`,
      );
      if (n)
        out.push(
          `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle" fill="${share > 0.6 ? '#fff' : '#000'}">${n}</text>`,
        );
    });
  });
  classes.forEach((c, j) => {
    out.push(`<text transform="translate(${left + j * cell + cell / 2 + 4},${top - 6}) rotate(-60)">${label(c)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">
<rect width="100%" height="100%" fill="white"/>
${out.join('\n')}
</svg>
`;
}

/** The confusion matrix's page: the chart, then each class's recall and precision. */
export function confusionMatrixHtml(matrix: number[][], classes: string[], title = 'Confusion matrix'): string {
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(2)}%` : '');
  const rows = classes.map((c, i) => {
    const row = matrix[i].reduce((a, b) => a + b, 0);
    const col = matrix.reduce((s, r) => s + r[i], 0);
    return `<tr><td style="text-align:left">${esc(c)}</td><td>${row}</td><td>${pct(matrix[i][i], row)}</td><td>${pct(matrix[i][i], col)}</td></tr>`;
  });
  return page(
    title,
    confusionMatrixSvg(matrix, classes, title),
    `<table><tr><th>class</th><th>images</th><th>recall</th><th>precision</th></tr>\n${rows.join('\n')}\n</table>`,
  );
}

/**
 * The SE gates' channel weights, one small panel per SE block (its mean weight per channel over the
 * images it saw, channel by channel): the squeeze-and-excitation paper's figure.
 */
export function seWeightsSvg(weights: Record<string, number[]>, title = 'SE channel weights'): string {
  const blocks = Object.entries(weights);
  const pw = 220;
  const ph = 120;
  const cols = Math.min(4, Math.max(blocks.length, 1));
  const rows = Math.ceil(blocks.length / cols);
  const m = { left: 30, right: 8, top: 22, bottom: 22 };
  const out: string[] = [`<text x="${(cols * pw) / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  blocks.forEach(([name, w], b) => {
    const x0 = (b % cols) * pw;
    const y0 = 26 + Math.floor(b / cols) * ph;
    const sx = (c: number) => x0 + m.left + (c / Math.max(1, w.length - 1)) * (pw - m.left - m.right);
    const sy = (v: number) => y0 + m.top + (1 - v) * (ph - m.top - m.bottom);
    out.push(`<text x="${x0 + pw / 2}" y="${y0 + 14}" text-anchor="middle">${esc(name)} (${w.length} channels)</text>`);
    out.push(`<rect x="${x0 + m.left}" y="${sy(1)}" width="${pw - m.left - m.right}" height="${sy(0) - sy(1)}" fill="none" stroke="#ccc"/>`);
    for (const t of [0, 0.5, 1]) out.push(`<text x="${x0 + m.left - 4}" y="${sy(t) + 3}" text-anchor="end">${t}</text>`);
    const d = w.map((v, c) => `${c ? 'L' : 'M'}${sx(c).toFixed(1)},${sy(Math.min(1, Math.max(0, v))).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="#1f77b4" stroke-width="1.2"/>`);
    out.push(`<text x="${x0 + pw / 2}" y="${y0 + ph - 6}" text-anchor="middle" fill="#666">channel</text>`);
  });
  const width = cols * pw;
  const height = 30 + rows * ph;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">
<rect width="100%" height="100%" fill="white"/>
${out.join('\n')}
</svg>
`;
}

/** The SE weights' page: the chart, then each block's mean, smallest and largest weight. */
export function seWeightsHtml(weights: Record<string, number[]>, title = 'SE channel weights'): string {
  const rows = Object.entries(weights).map(
    ([name, w]) =>
      `<tr><td style="text-align:left">${esc(name)}</td><td>${w.length}</td><td>${(w.reduce((a, b) => a + b, 0) / w.length).toFixed(4)}</td>` +
      `<td>${Math.min(...w).toFixed(4)}</td><td>${Math.max(...w).toFixed(4)}</td></tr>`,
  );
  return page(
    title,
    seWeightsSvg(weights, title),
    `<table><tr><th>block</th><th>channels</th><th>mean</th><th>min</th><th>max</th></tr>\n${rows.join('\n')}\n</table>`,
  );
}
