// A strict reader for the Python pickles in cifar-10-batches-py / cifar-100-python. Those files
// were written by Python 2's cPickle with protocol 2: a dict of byte-string keys, lists of ints and
// strings, and numpy arrays pickled through numpy.core.multiarray._reconstruct + BUILD. A pickle is
// a program for a stack machine; we run only the opcodes those files use and only the three numpy
// globals they name, turning them into plain data (nothing is ever called). Anything else stops
// with the opcode and its offset, so a file that is not a CIFAR batch is refused, not guessed at.
// Python 3's protocol-2 spelling of bytes (_codecs.encode(str, 'latin1')) and BINBYTES are also
// accepted, for archives re-pickled by newer tools.

/** A numpy array as pickled: raw little-endian bytes with shape and dtype, not yet interpreted. */
export interface PickledArray {
  kind: 'ndarray';
  shape: number[];
  dtype: string;
  fortran: boolean;
  data: Uint8Array;
}

export type PickleValue =
  | null | boolean | number | string | Uint8Array | PickleValue[] | PickledArray
  | { kind: 'dict'; entries: Map<string, PickleValue> };

interface GlobalRef { kind: 'global'; name: string }
interface DtypeRef { kind: 'dtype'; descr: string; byteOrder?: string }
interface PendingArray { kind: 'pending-array'; array?: PickledArray }
type Slot = PickleValue | GlobalRef | DtypeRef | PendingArray | typeof MARK_SLOT | Tuple;
class Tuple { constructor(readonly items: Slot[]) {} }
const MARK_SLOT = Symbol('mark');

const ALLOWED_GLOBALS = new Set([
  'numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype', '_codecs.encode',
]);

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** Parses a pickle; `file` only labels the errors. Keys of dicts are turned into strings (latin1). */
export function unpickle(buf: Uint8Array, file: string): PickleValue {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: Slot[] = [];
  const memo = new Map<number, Slot>();
  let pos = 0;
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg} at byte ${pos}; not a CIFAR python batch (expected cifar-10-batches-py/data_batch_N or cifar-100-python/train); download the archive again`);
  };
  const need = (n: number): void => {
    if (pos + n > buf.length) fail(`file ends inside an opcode (truncated; ${buf.length} bytes)`);
  };
  const u8 = (): number => { need(1); return buf[pos++]; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const i32 = (): number => { need(4); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const bytes = (n: number): Uint8Array => { need(n); const v = buf.subarray(pos, pos + n); pos += n; return v; };
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256) fail('GLOBAL name without a newline');
    const s = latin1.decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): Slot => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack.pop()!;
    if (v === MARK_SLOT) fail('unexpected MARK');
    return v;
  };
  const popMark = (): Slot[] => {
    const i = stack.lastIndexOf(MARK_SLOT);
    if (i < 0) fail('no MARK on the stack');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const top = (): Slot => { if (stack.length === 0) fail('stack underflow'); return stack[stack.length - 1]; };
  const key = (k: Slot): string => {
    if (typeof k === 'string') return k;
    if (k instanceof Uint8Array) return latin1.decode(k);
    return fail(`dict key of type ${describe(k)}`);
  };
  const setItems = (d: Slot, items: Slot[]): void => {
    if (!isDict(d)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (d as { entries: Map<string, PickleValue> }).entries.set(key(items[i]), plain(items[i + 1]));
  };
  const plain = (v: Slot): PickleValue => {
    if (v instanceof Tuple) return v.items.map(plain);
    if (typeof v === 'object' && v !== null && 'kind' in v) {
      if (v.kind === 'pending-array') return v.array ?? fail('numpy array without its BUILD state');
      if (v.kind === 'global' || v.kind === 'dtype') return fail(`a bare ${v.kind} as a value`);
    }
    if (v === MARK_SLOT) return fail('MARK as a value');
    return v as PickleValue;
  };
  const appendTo = (l: Slot, items: Slot[]): void => {
    if (!Array.isArray(l)) fail('APPEND(S) on something that is not a list');
    for (const it of items) (l as PickleValue[]).push(plain(it));
  };
  const reduce = (fn: Slot, args: Slot): Slot => {
    if (!(args instanceof Tuple)) return fail('REDUCE arguments are not a tuple');
    if (!(typeof fn === 'object' && fn !== null && 'kind' in fn && fn.kind === 'global')) return fail('REDUCE of something that is not a global');
    const a = args.items;
    switch (fn.name) {
      case 'numpy.core.multiarray._reconstruct':
      case 'numpy._core.multiarray._reconstruct':
        return { kind: 'pending-array' };
      case 'numpy.dtype': {
        const d = a[0] instanceof Uint8Array ? latin1.decode(a[0]) : a[0];
        if (typeof d !== 'string') return fail('numpy.dtype with a non-string type code');
        return { kind: 'dtype', descr: d };
      }
      case '_codecs.encode': {
        if (typeof a[0] !== 'string') return fail('_codecs.encode of a non-string');
        const s = a[0];
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 255) fail('_codecs.encode of a string that is not latin1');
          out[i] = c;
        }
        return out;
      }
      default:
        return fail(`REDUCE of ${fn.name}`);
    }
  };
  const build = (obj: Slot, state: Slot): void => {
    if (!(typeof obj === 'object' && obj !== null && 'kind' in obj)) return void fail('BUILD on a plain value');
    const st = state instanceof Tuple ? state.items : fail('BUILD state is not a tuple');
    if (obj.kind === 'dtype') {
      // (version, byteorder, subdescr, names, fields, elsize, alignment, flags)
      const bo = st[1];
      obj.byteOrder = bo instanceof Uint8Array ? latin1.decode(bo) : typeof bo === 'string' ? bo : undefined;
      return;
    }
    if (obj.kind === 'pending-array') {
      // (version, shape, dtype, is_fortran, raw data)
      const [, shapeS, dtypeS, fortranS, dataS] = st;
      const shape = shapeS instanceof Tuple ? shapeS.items : fail('ndarray shape is not a tuple');
      if (!shape.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) fail('ndarray shape holds a non-integer');
      if (!(typeof dtypeS === 'object' && dtypeS !== null && 'kind' in dtypeS && dtypeS.kind === 'dtype')) return void fail('ndarray without a dtype');
      let data: Uint8Array;
      if (dataS instanceof Uint8Array) data = dataS;
      else if (typeof dataS === 'string') data = Uint8Array.from(dataS, (ch) => ch.charCodeAt(0) & 0xff);
      else return void fail('ndarray data is not a byte string (object arrays are not supported)');
      const order = dtypeS.byteOrder && dtypeS.byteOrder !== '|' && dtypeS.byteOrder !== '=' ? dtypeS.byteOrder : '<';
      obj.array = { kind: 'ndarray', shape: shape as number[], dtype: order + dtypeS.descr, fortran: fortranS === true, data };
      return;
    }
    fail(`BUILD on a ${obj.kind}`);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: { const v = u8(); if (v > 4) fail(`pickle protocol ${v}`); break; } // PROTO
      case 0x95: pos += 8; break; // FRAME (protocol 4): framing only
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length) fail(`${stack.length} values left on the stack at STOP`);
        return plain(v);
      }
      case 0x28: stack.push(MARK_SLOT); break; // MARK
      case 0x7d: stack.push({ kind: 'dict', entries: new Map() }); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x8a: { // LONG1
        const n = u8();
        const b = bytes(n);
        if (n > 6) fail('LONG1 wider than 48 bits');
        let v = 0;
        for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
        if (n > 0 && b[n - 1] & 0x80) v -= 2 ** (8 * n);
        stack.push(v);
        break;
      }
      case 0x55: stack.push(bytes(u8())); break; // SHORT_BINSTRING (py2 str: bytes)
      case 0x54: { const n = i32(); if (n < 0) fail('negative BINSTRING length'); stack.push(bytes(n)); break; } // BINSTRING
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x8c: stack.push(utf8.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(utf8.decode(bytes(u32()))); break; // BINUNICODE
      case 0x63: { // GLOBAL
        const name = `${line()}.${line()}`;
        if (!ALLOWED_GLOBALS.has(name)) fail(`GLOBAL ${name} (only numpy arrays are expected)`);
        stack.push({ kind: 'global', name });
        break;
      }
      case 0x93: { // STACK_GLOBAL (protocol 4)
        const n = pop();
        const m = pop();
        if (typeof m !== 'string' || typeof n !== 'string') return fail('STACK_GLOBAL of non-strings');
        const name = `${m}.${n}`;
        if (!ALLOWED_GLOBALS.has(name)) fail(`GLOBAL ${name} (only numpy arrays are expected)`);
        stack.push({ kind: 'global', name });
        break;
      }
      case 0x85: stack.push(new Tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new Tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new Tuple([a, b, c])); break; } // TUPLE3
      case 0x74: stack.push(new Tuple(popMark())); break; // TUPLE
      case 0x6c: { const items = popMark(); stack.push(items.map(plain)); break; } // LIST
      case 0x52: { const args = pop(); const fn = pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x62: { const state = pop(); build(top(), state); break; } // BUILD
      case 0x61: { const v = pop(); appendTo(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendTo(top(), items); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo ${i} read before it was written`);
        stack.push(memo.get(i)!);
        break;
      }
      default:
        pos = at;
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}

function isDict(v: Slot): boolean {
  return typeof v === 'object' && v !== null && 'kind' in v && v.kind === 'dict';
}

function describe(v: Slot): string {
  if (v === null) return 'None';
  if (v instanceof Tuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object' && 'kind' in v) return v.kind;
  return typeof v;
}

/** The dict a CIFAR pickle holds, or an error naming the file. */
export function pickleDict(v: PickleValue, file: string): Map<string, PickleValue> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && v.kind === 'dict') return v.entries;
  throw new Error(`${file}: the pickle holds ${Array.isArray(v) ? 'a list' : typeof v}, not the dict of a CIFAR python batch`);
}
