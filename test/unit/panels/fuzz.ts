// Malformed-message generator for the protocol validators: junk values, broken discriminants,
// and mutations of valid messages (bad field values, missing required fields, extra and
// prototype-pollution keys, hostile getters). Seeded, so a failure reproduces.

import { MAX_STRING } from '../../../src/shared/protocol/common';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values no field of any panel protocol accepts (every string field rejects '' and NUL, and caps length). */
export function badValues(): unknown[] {
  return [
    undefined, null, 0, -1, 1e308, NaN, Infinity, true, false, {}, [], [[]], [1, 2, 3],
    '', '\0', 'a\0b', 'x'.repeat(MAX_STRING + 1), Symbol('s'), () => 1, new Date(0), /re/, 10n,
    JSON.parse('{"__proto__":{"polluted":true}}'), { constructor: { prototype: { polluted: true } } },
    Object.create({ inherited: 1 }),
  ];
}

function hostileGetter(base: Record<string, unknown>, key: string): Record<string, unknown> {
  const o = { ...base };
  Object.defineProperty(o, key, { enumerable: true, get() { throw new Error('boom'); } });
  return o;
}

function throwingProxy(base: Record<string, unknown>): unknown {
  return new Proxy(base, { get() { throw new Error('proxy trap'); }, ownKeys() { throw new Error('proxy keys'); }, getPrototypeOf() { throw new Error('proxy proto'); } });
}

export interface Spec {
  /** Messages the validator must accept. */
  valid: Record<string, unknown>[];
  /** Keys that may be left out of a message without making it invalid. */
  optional?: string[];
  /** Fields that accept some of badValues() on purpose (e.g. null = "no baseline"); skipped when mutating. */
  lenient?: Record<string, (v: unknown) => boolean>;
}

/** At least `count` messages that must all be rejected. */
export function malformed(spec: Spec, count: number, seed = 1): unknown[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const out: unknown[] = [];
  const bad = badValues();
  const types = spec.valid.map((v) => v.type as string);
  // Junk with no usable discriminant.
  for (const v of bad) out.push(v);
  for (const v of bad) out.push({ type: v });
  out.push({ type: 'x'.repeat(100_000) }, { type: '__proto__' }, { type: 'constructor' }, { type: 'hasOwnProperty' }, { type: 'toString' }, { Type: 'ready' });
  for (const t of types) out.push({ type: t.toUpperCase() }, { type: ` ${t}` }, [{ type: t }], JSON.stringify({ type: t }), new String(t));
  // Mutations of valid messages.
  while (out.length < count) {
    const base = pick(spec.valid);
    const keys = Object.keys(base).filter((k) => k !== 'type');
    const m = { ...base };
    const choice = Math.floor(r() * 6);
    if (choice === 0 && keys.length) {
      const k = pick(keys);
      const v = pick(bad);
      if (spec.lenient?.[k]?.(v)) continue;
      m[k] = v;
      out.push(m);
    } else if (choice === 1) {
      const req = keys.filter((k) => !(spec.optional ?? []).includes(k));
      if (!req.length) continue;
      delete m[pick(req)];
      out.push(m);
    } else if (choice === 2) {
      m[`extra${Math.floor(r() * 1000)}`] = pick([1, 'x', null]);
      out.push(m);
    } else if (choice === 3) {
      out.push(JSON.parse(JSON.stringify(m).replace(/^\{/, `{"${pick(['__proto__', 'constructor', 'prototype'])}":{"polluted":true},`)));
    } else if (choice === 4) {
      out.push(r() < 0.5 ? hostileGetter(m, pick([...keys, 'type'])) : throwingProxy(m));
    } else {
      m.type = pick(types) + pick(['!', 'x', '\0', ' ']);
      out.push(m);
    }
  }
  return out;
}

/** For failure messages; survives the hostile objects above. */
export function safeShow(v: unknown): string {
  try { return JSON.stringify(v)?.slice(0, 200) ?? typeof v; } catch { return `unprintable ${typeof v}`; }
}
