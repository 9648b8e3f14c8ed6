import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

// The CIFAR archives are read as downloaded (.tar.gz): the file is streamed through zlib and this
// tar reader keeps only the members asked for, so nothing is extracted to disk and memory holds
// the wanted members, not the archive. Formats: POSIX ustar (name + prefix), GNU long names ('L')
// and pax headers ('x', for `path`), which covers what tar and Python's tarfile write.

const BLOCK = 512;

export interface TarOptions {
  /** Members to keep, by their path inside the archive. */
  want: (name: string) => boolean;
  /** The most bytes the kept members may hold together. */
  maxBytes: number;
}

function octal(h: Buffer, off: number, len: number): number {
  const s = h.subarray(off, off + len).toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function cstr(h: Buffer, off: number, len: number): string {
  const b = h.subarray(off, off + len);
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? len : end).toString('utf8');
}

function checksumOk(h: Buffer): boolean {
  const stored = octal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === stored;
}

function paxPath(body: Buffer): string | undefined {
  // Records are "<len> <key>=<value>\n".
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    if (sp < 0) break;
    const len = parseInt(body.subarray(at, sp).toString('latin1'), 10);
    if (!(len > 0)) break;
    const rec = body.subarray(sp + 1, at + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') return rec.slice(eq + 1);
    at += len;
  }
  return undefined;
}

/**
 * Reads the wanted members of a .tar or .tar.gz (gzip is recognised by its magic, not the name).
 * Errors name the archive and say what is wrong: damaged gzip, bad header checksum, truncation.
 */
export async function readTarMembers(file: string, opts: TarOptions): Promise<Map<string, Buffer>> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = createReadStream(file, { start: 0, end: 1 });
    s.on('data', (c) => chunks.push(c as Buffer));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
  const gz = head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = gz ? source.pipe(createGunzip()) : source;
  source.on('error', (e) => stream.destroy(e));
  const out = new Map<string, Buffer>();
  let kept = 0;
  let pending = Buffer.alloc(0);
  let header: { name: string; size: number; type: string } | null = null;
  let body: Buffer | null = null;
  let bodyAt = 0;
  let skip = 0;
  let longName: string | undefined;
  let offset = 0;
  let ended = false;
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}; download the archive again`);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      while (buf.length > 0 && !ended) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          if (body) {
            const take = Math.min(n, body.length - bodyAt);
            buf.copy(body, bodyAt, 0, take);
            bodyAt += take;
          }
          skip -= n;
          offset += n;
          buf = buf.subarray(n);
          if (skip === 0 && header) {
            if (header.type === 'L') longName = body!.toString('utf8').replace(/\0.*$/s, '');
            else if (header.type === 'x') longName = paxPath(body!) ?? longName;
            else if (body) out.set(header.name, body);
            header = null;
            body = null;
          }
          continue;
        }
        if (buf.length < BLOCK) {
          pending = Buffer.from(buf);
          break;
        }
        const h = buf.subarray(0, BLOCK);
        buf = buf.subarray(BLOCK);
        offset += BLOCK;
        if (h.every((b) => b === 0)) {
          ended = true;
          break;
        }
        if (!checksumOk(h)) fail(`tar header at byte ${offset - BLOCK} has a bad checksum (not a tar archive, or damaged)`);
        const size = octal(h, 124, 12);
        if (!Number.isFinite(size)) fail(`tar header at byte ${offset - BLOCK} has an unreadable size`);
        const type = String.fromCharCode(h[156] || 0x30);
        const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar') ? cstr(h, 345, 155) : '';
        let name = prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100);
        if (type !== 'L' && type !== 'x') {
          if (longName !== undefined) name = longName;
          longName = undefined;
        }
        name = name.replace(/^\.\//, '');
        header = { name, size, type };
        const meta = type === 'L' || type === 'x';
        const regular = type === '0' || type === '7';
        if (meta && size > 1 << 20) fail(`tar header at byte ${offset - BLOCK} announces ${size} bytes of metadata`);
        if (meta || (regular && opts.want(name))) {
          kept += meta ? 0 : size;
          if (kept > opts.maxBytes) fail(`the members read hold more than ${opts.maxBytes} bytes, more than this dataset may`);
          body = Buffer.alloc(size);
          bodyAt = 0;
        }
        skip = Math.ceil(size / BLOCK) * BLOCK;
        if (skip === 0) {
          if (body && !meta) out.set(name, body);
          header = null;
          body = null;
        }
      }
      if (ended) break;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') fail(`the gzip stream is damaged (${(e as Error).message})`);
    throw e;
  } finally {
    stream.destroy();
    source.destroy();
  }
  if (!ended && (skip > 0 || pending.length > 0 || header)) fail(`ends inside a member (truncated after ${offset} bytes)`);
  return out;
}
