import { gunzipSync, gzipSync } from 'node:zlib';
import { READ_LIMITS, entryExists, readBounded } from '../util/boundedRead';

// IDX (LeCun's MNIST format): 2 zero bytes, a type code (0x08 = unsigned byte), the number of
// dimensions, then each dimension as a big-endian uint32, then the data. Files come raw or gzipped
// depending on where they were downloaded, so the gzip magic decides, not the file name.

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const GZIP_MAGIC = [0x1f, 0x8b];

export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === GZIP_MAGIC[0] && buf[1] === GZIP_MAGIC[1];
}

/** Parses an IDX buffer (raw or gzipped); `path` only labels the errors. */
export function parseIdx(input: Uint8Array, path: string, expectedNdim?: number, maxBytes: number = READ_LIMITS.idx): IdxArray {
  let buf = input;
  if (isGzip(buf)) {
    try {
      // A few kilobytes of gzip can inflate to gigabytes: the output is capped, not trusted.
      buf = gunzipSync(buf, { maxOutputLength: maxBytes });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        throw new Error(`${path}: inflates to more than ${maxBytes} bytes, more than an IDX file may hold; is it the right file?`);
      }
      throw new Error(`${path}: the gzip stream is damaged (${(e as Error).message}); download the file again`);
    }
  }
  if (buf.length < 4) throw new Error(`${path}: file is only ${buf.length} bytes, too short for an IDX header; download the file again`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new Error(`${path}: wrong magic number (0x${hex(buf.subarray(0, 4))}), not an IDX file; point the dataset at MNIST-format *-idx?-ubyte[.gz] files`);
  }
  if (buf[2] !== 0x08) {
    throw new Error(`${path}: IDX element type 0x${buf[2].toString(16).padStart(2, '0')} is not supported (only unsigned byte, 0x08); convert the file to uint8`);
  }
  const ndim = buf[3];
  if (expectedNdim !== undefined && ndim !== expectedNdim) {
    throw new Error(`${path}: expected a ${expectedNdim}-dimensional IDX file (magic 0x0000080${expectedNdim}), found ${ndim} dimensions; check that images and labels files are not swapped`);
  }
  const offset = 4 + 4 * ndim;
  if (buf.length < offset) throw new Error(`${path}: truncated IDX header (${buf.length} bytes); download the file again`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length < offset + size) {
    throw new Error(`${path}: truncated: header says ${dims.join('×')} = ${size} bytes of data but only ${buf.length - offset} are present; download the file again`);
  }
  if (buf.length > offset + size) {
    throw new Error(`${path}: ${buf.length - offset - size} unexpected trailing bytes after ${dims.join('×')} data; the file is not a valid IDX file`);
  }
  return { dims, data: buf.subarray(offset, offset + size) };
}

/** Reads an IDX file, trying `base` and `base.gz`; a missing file names both candidates. */
export async function readIdxFile(base: string, expectedNdim?: number): Promise<IdxArray & { path: string }> {
  const candidates = [base, `${base}.gz`];
  const path = candidates.find((p) => entryExists(p));
  if (!path) {
    throw new Error(`${base}[.gz]: file not found; put the MNIST-format file there (raw or gzipped) or fix dataset.path`);
  }
  const buf = readBounded(path, READ_LIMITS.idx, 'an IDX file');
  return { ...parseIdx(buf, path, expectedNdim), path };
}

/** Encodes an unsigned-byte IDX file; used by tests and tooling to write fixtures. */
export function encodeIdx(dims: number[], data: Uint8Array, gzip = false): Buffer {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`encodeIdx: dims ${dims.join('×')} need ${size} bytes, got ${data.length}`);
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const raw = Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  return gzip ? gzipSync(raw, { level: 9 }) : raw;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
