/** Python's repr of the values modules print in extraRepr(), so module trees print as PyTorch's. */

/** Python's float repr: shortest round trip, exponent form below 1e-4 and from 1e16 ('1e-05'). */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const ax = Math.abs(x);
  if (ax !== 0 && (ax < 1e-4 || ax >= 1e16)) {
    const [mant, exp] = x.toExponential().split('e');
    const e = Number(exp);
    return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/** repr of an int, float, bool, None, string or tuple; `float` forces a float's repr for whole numbers. */
export function pyRepr(v: unknown, float = false): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return float || !Number.isInteger(v) ? pyFloat(v) : String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return v.length === 1 ? `(${pyRepr(v[0], float)},)` : `(${v.map((x) => pyRepr(x, float)).join(', ')})`;
  return String(v);
}
