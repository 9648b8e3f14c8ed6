// Validation shared by every panel protocol. A webview is a page we render, but it is still an
// untrusted message source (a compromised bundle, a stale webview after an update, a fuzzed
// message in a test), so the host checks every field before acting on it and never throws.

/** Longest string a webview may send; run folders and config paths are far shorter. */
export const MAX_STRING = 4096;
/** Longest list a webview may send (run selections). */
export const MAX_LIST = 256;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export type Validated<T> = T | ProtocolError;

/** A plain JSON-ish object with no prototype-pollution keys (own enumerable keys are checked). */
export function plainObject(v: unknown, where: string): Record<string, unknown> | ProtocolError {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return new ProtocolError(`${where}: expected an object, got ${kindOf(v)}`);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return new ProtocolError(`${where}: expected a plain object`);
  for (const k of Object.getOwnPropertyNames(v)) {
    if (FORBIDDEN_KEYS.has(k)) return new ProtocolError(`${where}: forbidden key "${k}"`);
  }
  return v as Record<string, unknown>;
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Only the listed keys may appear: an unexpected key means the two sides disagree on the protocol. */
export function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): ProtocolError | undefined {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) return new ProtocolError(`${where}: unexpected key "${k.slice(0, 40)}"`);
  return undefined;
}

export function str(v: unknown, where: string, opts: { max?: number; allowEmpty?: boolean } = {}): string | ProtocolError {
  if (typeof v !== 'string') return new ProtocolError(`${where}: expected a string, got ${kindOf(v)}`);
  const max = opts.max ?? MAX_STRING;
  if (v.length > max) return new ProtocolError(`${where}: string longer than ${max} characters`);
  if (!opts.allowEmpty && v.length === 0) return new ProtocolError(`${where}: empty string`);
  if (v.includes('\0')) return new ProtocolError(`${where}: NUL character`);
  return v;
}

export function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T | ProtocolError {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) return new ProtocolError(`${where}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

export function strList(v: unknown, where: string, opts: { min?: number; max?: number } = {}): string[] | ProtocolError {
  if (!Array.isArray(v)) return new ProtocolError(`${where}: expected a list, got ${kindOf(v)}`);
  if (v.length > (opts.max ?? MAX_LIST)) return new ProtocolError(`${where}: more than ${opts.max ?? MAX_LIST} entries`);
  if (v.length < (opts.min ?? 0)) return new ProtocolError(`${where}: fewer than ${opts.min} entries`);
  const out: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const s = str(v[i], `${where}[${i}]`);
    if (s instanceof ProtocolError) return s;
    out.push(s);
  }
  return out;
}

/**
 * Reads the `type` discriminant and hands the object to the per-type check. Anything thrown by a
 * check (a getter on a hostile object, a proxy) becomes an Error rather than escaping.
 */
export function validateWith<T>(raw: unknown, where: string, checks: Record<string, (o: Record<string, unknown>) => Validated<T>>): Validated<T> {
  try {
    const o = plainObject(raw, where);
    if (o instanceof ProtocolError) return o;
    const type = o.type;
    if (typeof type !== 'string' || type.length > 64) return new ProtocolError(`${where}: missing or invalid "type"`);
    if (!Object.prototype.hasOwnProperty.call(checks, type)) return new ProtocolError(`${where}: unknown message type "${type}"`);
    return checks[type](o);
  } catch (e) {
    return new ProtocolError(`${where}: unreadable message (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** A message with no fields but its type. */
export function bare<T>(type: string, where: string): (o: Record<string, unknown>) => Validated<T> {
  return (o) => onlyKeys(o, ['type'], `${where} ${type}`) ?? ({ type } as T);
}

/** Reads a field of webview state (persisted by VS Code, so possibly from an older version). */
export function stateField<T>(raw: unknown, read: (o: Record<string, unknown>) => T | ProtocolError, where: string): T | ProtocolError {
  try {
    const o = plainObject(raw, where);
    if (o instanceof ProtocolError) return o;
    return read(o);
  } catch (e) {
    return new ProtocolError(`${where}: unreadable (${e instanceof Error ? e.message : String(e)})`);
  }
}
