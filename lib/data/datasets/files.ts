/** Finding and reading dataset files (optionally gzipped), with errors that name the file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { DataFileError } from '../errors';

const gunzipAsync = promisify(zlib.gunzip);

/** A root option: a non-empty string naming an existing folder. */
export function rootArg(who: string, root: unknown): string {
  if (typeof root !== 'string' || root.length === 0) throw new TypeError(`${who}: root must be a folder path (a non-empty string)`);
  const abs = path.resolve(root);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new DataFileError(`${who}: the root folder ${abs} does not exist`, abs);
  }
  if (!st.isDirectory()) throw new DataFileError(`${who}: root ${abs} is not a folder`, abs);
  return abs;
}

/** The first of dirs/name or dirs/name.gz that exists, or an error listing where it looked. */
export function findFile(who: string, dirs: string[], name: string, allowGz: boolean): string {
  const tried: string[] = [];
  for (const dir of dirs) {
    for (const candidate of allowGz ? [name, `${name}.gz`] : [name]) {
      const p = path.join(dir, candidate);
      tried.push(p);
      if (fs.existsSync(p) && fs.statSync(p).isFile()) return p;
    }
  }
  throw new DataFileError(`${who}: file ${name}${allowGz ? ' (or .gz)' : ''} not found; looked for ${tried.join(', ')}`, tried[0]);
}

function gunzipFailed(who: string, file: string, e: unknown): DataFileError {
  return new DataFileError(`${who}: ${file} is not a valid gzip file (${(e as Error).message})`, file);
}

function readFailed(who: string, file: string, e: unknown): DataFileError {
  return new DataFileError(`${who}: cannot read ${file} (${(e as Error).message})`, file);
}

/** The bytes of a file, gunzipped when its name ends in .gz. */
export function readBytes(who: string, file: string): Buffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw readFailed(who, file, e);
  }
  if (!file.endsWith('.gz')) return buf;
  try {
    return zlib.gunzipSync(buf);
  } catch (e) {
    throw gunzipFailed(who, file, e);
  }
}

/** readBytes without blocking the event loop (reading and gunzip run on libuv's pool). */
export async function readBytesAsync(who: string, file: string): Promise<Buffer> {
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (e) {
    throw readFailed(who, file, e);
  }
  if (!file.endsWith('.gz')) return buf;
  try {
    return await gunzipAsync(buf);
  } catch (e) {
    throw gunzipFailed(who, file, e);
  }
}
