// Minimal .npy reader (format versions 1–3, C order) for released CIFAR-10-C files. Reads the
// header first so a caller can pull just the rows it needs from a 150 MB file.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { fsErrorText } from '../util/boundedRead';

export type NpyDtype = '|u1' | '<i4' | '<i8' | '<f4' | '<f8';
export type NpyData = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

const ITEM_SIZE: Record<NpyDtype, number> = { '|u1': 1, '<i4': 4, '<i8': 8, '<f4': 4, '<f8': 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first array element. */
  dataOffset: number;
  itemSize: number;
  version: number;
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

function normalizeDtype(descr: string): NpyDtype | null {
  // Single bytes have no byte order, and numpy writes '|u1'; accept the equivalent spellings.
  if (descr === '|u1' || descr === '<u1' || descr === '=u1' || descr === 'u1') return '|u1';
  if (descr === '<i4' || descr === '<i8' || descr === '<f4' || descr === '<f8') return descr;
  return null;
}

/** Parse the header from the first bytes of a file (at least 12 + header length bytes). */
export function parseNpyHeader(bytes: Uint8Array, file = '<buffer>'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${file} is not a .npy file (wrong magic bytes); expected a NumPy array saved with numpy.save — re-download the file`);
  }
  const version = bytes[6];
  let headerLen: number;
  let start: number;
  if (version === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    start = 10;
  } else if (version === 2 || version === 3) {
    if (bytes.length < 12) throw new Error(`${file} is truncated inside the .npy header; re-download the file`);
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
    start = 12;
  } else {
    throw new Error(`${file} uses .npy format version ${version}, which is not supported (1, 2 or 3); re-save it with numpy.save`);
  }
  if (bytes.length < start + headerLen) throw new Error(`${file} is truncated inside the .npy header; re-download the file`);
  const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${file} has an unreadable .npy header (${JSON.stringify(text.trim())}); re-save it with numpy.save`);
  }
  if (fortran === 'True') {
    throw new Error(`${file} is stored in Fortran (column-major) order, which is not supported; re-save it with numpy.save(path, np.ascontiguousarray(a))`);
  }
  const dtype = normalizeDtype(descr);
  if (!dtype) {
    throw new Error(`${file} has dtype '${descr}', which is not supported (uint8, little-endian int32/int64/float32/float64); convert it with a.astype(np.uint8) or np.float32 and re-save`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map((s) => {
    const v = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(v) || v < 0) throw new Error(`${file} has an invalid shape (${shapeText}) in its .npy header`);
    return v;
  });
  return { dtype, shape, dataOffset: start + headerLen, itemSize: ITEM_SIZE[dtype], version };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function view(dtype: NpyDtype, bytes: Uint8Array): NpyData {
  // Copy into an aligned buffer: the data offset is only guaranteed 16-aligned within the file.
  const buf = new Uint8Array(bytes.length);
  buf.set(bytes);
  switch (dtype) {
    case '|u1': return buf;
    case '<i4': return new Int32Array(buf.buffer);
    case '<i8': return new BigInt64Array(buf.buffer);
    case '<f4': return new Float32Array(buf.buffer);
    case '<f8': return new Float64Array(buf.buffer);
  }
}

function truncated(file: string, have: number, need: number): Error {
  return new Error(`${file} is truncated: ${have} data bytes, the header promises ${need}; the download was probably cut off — download it again`);
}

/** Decode a whole .npy held in memory. */
export function readNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  const h = parseNpyHeader(bytes, file);
  const need = elementCount(h.shape) * h.itemSize;
  const have = bytes.length - h.dataOffset;
  if (have < need) throw truncated(file, Math.max(0, have), need);
  return { dtype: h.dtype, shape: h.shape, data: view(h.dtype, bytes.subarray(h.dataOffset, h.dataOffset + need)) };
}

/** An open .npy file whose leading-axis rows can be read without loading the rest. */
export interface NpyFile {
  file: string;
  header: NpyHeader;
  /** Rows [start, start + count) along the first axis. */
  readRows(start: number, count: number): NpyData;
  close(): void;
}

export function openNpy(file: string): NpyFile {
  // Non-blocking open and a type check first: a FIFO named like a .npy file would block forever.
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new Error(`${file}: cannot be read: ${fsErrorText(e)}; point the CIFAR-10-C folder at the released .npy files`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${file}: not a regular file; point the CIFAR-10-C folder at the released .npy files`);
    const size = st.size;
    const head = new Uint8Array(Math.min(size, 65536 + 12));
    readSync(fd, head, 0, head.length, 0);
    const header = parseNpyHeader(head, file);
    const need = elementCount(header.shape) * header.itemSize;
    if (size - header.dataOffset < need) throw truncated(file, Math.max(0, size - header.dataOffset), need);
    const rowItems = elementCount(header.shape.slice(1));
    const rows = header.shape.length ? header.shape[0] : 1;
    return {
      file,
      header,
      readRows(start: number, count: number): NpyData {
        if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
          throw new Error(`${file}: rows ${start}..${start + count} are outside the array's ${rows} rows`);
        }
        const bytes = new Uint8Array(count * rowItems * header.itemSize);
        let done = 0;
        while (done < bytes.length) {
          const n = readSync(fd, bytes, done, bytes.length - done, header.dataOffset + start * rowItems * header.itemSize + done);
          if (n <= 0) throw truncated(file, done, bytes.length);
          done += n;
        }
        return view(header.dtype, bytes);
      },
      close(): void {
        closeSync(fd);
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Integer labels from any supported dtype, with a clear error if they are not whole numbers. */
export function toInt32(data: NpyData, file = '<buffer>'): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw new Error(`${file}: element ${i} (${v}) is not a 32-bit integer label`);
    out[i] = v;
  }
  return out;
}

/** Encode an array as .npy (used by tests and exporters). Version 2 when asked or when the header needs it. */
export function encodeNpy(dtype: NpyDtype, shape: readonly number[], data: NpyData, version: 1 | 2 = 1): Uint8Array {
  if (data.length !== elementCount(shape)) throw new Error(`encodeNpy: ${data.length} elements do not fill shape (${shape.join(', ')})`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const len = dict.length;
  out[8] = len & 0xff;
  out[9] = (len >> 8) & 0xff;
  if (version === 2) {
    out[10] = (len >> 16) & 0xff;
    out[11] = (len >> 24) & 0xff;
  }
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
