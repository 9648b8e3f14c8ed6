// JPEG compression as PIL's default encoder and decoder do it (libjpeg-turbo: 4:2:0 chroma,
// the "islow" integer DCT, the standard tables scaled by quality, fancy upsampling on decode),
// worked in the pixel domain. Entropy coding is lossless, so skipping it changes no pixel: what
// the reference's save-and-reopen loses is all in the colour conversion, the chroma averaging,
// the coefficient rounding and the integer transforms, which follow libjpeg-turbo's
// jccolor.c, jcsample.c, jfdctint.c, jcdctmgr.c, jidctint.c, jdsample.c and jdcolor.c step for
// step (IJG licence; ported, not copied). Grey images are coded as one component, as PIL codes
// an "L" image.

const LUMA_TABLE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_TABLE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** jpeg_set_quality(quality, force_baseline = TRUE): the standard table scaled, each entry in 1..255. */
export function quantTable(base: readonly number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return Int32Array.from(base, (v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

// Fixed-point constants of the islow DCT (CONST_BITS 13; PASS1_BITS 2 for 8-bit samples).
const F0_298 = 2446, F0_390 = 3196, F0_541 = 4433, F0_765 = 6270, F0_899 = 7373, F1_175 = 9633;
const F1_501 = 12299, F1_847 = 15137, F1_961 = 16069, F2_053 = 16819, F2_562 = 20995, F3_072 = 25172;
// Products reach past 32 bits (libjpeg holds them in a long), so shift by dividing.
const descale = (x: number, n: number): number => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

/** Forward islow DCT of one 8×8 block (samples − 128) in place; output scaled by 8. */
function fdct(d: Int32Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const step = pass === 0 ? 8 : 1; // rows, then columns
    const stride = pass === 0 ? 1 : 8;
    for (let k = 0; k < 8; k++) {
      const o = k * step;
      const at = (i: number): number => d[o + i * stride];
      const tmp0 = at(0) + at(7), tmp7 = at(0) - at(7);
      const tmp1 = at(1) + at(6), tmp6 = at(1) - at(6);
      const tmp2 = at(2) + at(5), tmp5 = at(2) - at(5);
      const tmp3 = at(3) + at(4), tmp4 = at(3) - at(4);
      const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
      const shift = pass === 0 ? 13 - 2 : 13 + 2;
      d[o] = pass === 0 ? (tmp10 + tmp11) * 4 : descale(tmp10 + tmp11, 2);
      d[o + 4 * stride] = pass === 0 ? (tmp10 - tmp11) * 4 : descale(tmp10 - tmp11, 2);
      let z1 = (tmp12 + tmp13) * F0_541;
      d[o + 2 * stride] = descale(z1 + tmp13 * F0_765, shift);
      d[o + 6 * stride] = descale(z1 - tmp12 * F1_847, shift);
      z1 = tmp4 + tmp7;
      let z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;
      const z5 = (z3 + z4) * F1_175;
      const t4 = tmp4 * F0_298, t5 = tmp5 * F2_053, t6 = tmp6 * F3_072, t7 = tmp7 * F1_501;
      z1 *= -F0_899; z2 *= -F2_562; z3 = z3 * -F1_961 + z5; z4 = z4 * -F0_390 + z5;
      d[o + 7 * stride] = descale(t4 + z1 + z3, shift);
      d[o + 5 * stride] = descale(t5 + z2 + z4, shift);
      d[o + 3 * stride] = descale(t6 + z2 + z3, shift);
      d[o + 1 * stride] = descale(t7 + z1 + z4, shift);
    }
  }
}

/** jcdctmgr.c's quantiser: division by 8·q through its reciprocal, rounding as libjpeg-turbo does. */
function quantizer(table: Int32Array): (x: number, i: number) => number {
  const recip = new Float64Array(64), corr = new Float64Array(64), shift = new Float64Array(64);
  for (let i = 0; i < 64; i++) {
    const div = table[i] * 8;
    let r = 16 + Math.floor(Math.log2(div));
    let fq = Math.floor(2 ** r / div);
    const fr = 2 ** r % div;
    let c = Math.floor(div / 2);
    if (fr === 0) { fq = Math.floor(fq / 2); r--; } else if (fr <= Math.floor(div / 2)) c++; else fq++;
    recip[i] = fq; corr[i] = c; shift[i] = 2 ** r;
  }
  return (x, i) => {
    const q = Math.floor(((Math.abs(x) + corr[i]) * recip[i]) / shift[i]);
    return x < 0 ? -q : q;
  };
}

/** Inverse islow DCT of dequantised coefficients; writes 8×8 samples (+128, clamped to 0..255). */
function idct(coef: Int32Array, out: Int32Array): void {
  const ws = new Int32Array(64);
  for (let pass = 0; pass < 2; pass++) {
    const src = pass === 0 ? coef : ws;
    const stride = pass === 0 ? 8 : 1; // columns first, then rows
    const step = pass === 0 ? 1 : 8;
    for (let k = 0; k < 8; k++) {
      const o = k * step;
      const at = (i: number): number => src[o + i * stride];
      let z2 = at(2), z3 = at(6);
      let z1 = (z2 + z3) * F0_541;
      const e2 = z1 - z3 * F1_847, e3 = z1 + z2 * F0_765;
      const e0 = (at(0) + at(4)) * 8192, e1 = (at(0) - at(4)) * 8192;
      const tmp10 = e0 + e3, tmp13 = e0 - e3, tmp11 = e1 + e2, tmp12 = e1 - e2;
      let t0 = at(7), t1 = at(5), t2 = at(3), t3 = at(1);
      z1 = t0 + t3; z2 = t1 + t2; z3 = t0 + t2;
      let z4 = t1 + t3;
      const z5 = (z3 + z4) * F1_175;
      t0 *= F0_298; t1 *= F2_053; t2 *= F3_072; t3 *= F1_501;
      z1 *= -F0_899; z2 *= -F2_562; z3 = z3 * -F1_961 + z5; z4 = z4 * -F0_390 + z5;
      t0 += z1 + z3; t1 += z2 + z4; t2 += z2 + z3; t3 += z1 + z4;
      const vals = [tmp10 + t3, tmp11 + t2, tmp12 + t1, tmp13 + t0, tmp13 - t0, tmp12 - t1, tmp11 - t2, tmp10 - t3];
      for (let i = 0; i < 8; i++) {
        if (pass === 0) ws[o + i * stride] = descale(vals[i], 13 - 2);
        else out[o + i * stride] = Math.min(255, Math.max(0, descale(vals[i], 13 + 2 + 3) + 128));
      }
    }
  }
}

/** Code one component plane (w×h, already padded to whole blocks) and decode it back. */
function codePlane(plane: Int32Array, w: number, h: number, table: Int32Array): Int32Array {
  const quant = quantizer(table);
  const out = new Int32Array(w * h);
  const block = new Int32Array(64);
  const samples = new Int32Array(64);
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(by + y) * w + bx + x] - 128;
      fdct(block);
      for (let i = 0; i < 64; i++) block[i] = quant(block[i], i) * table[i];
      idct(block, samples);
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) out[(by + y) * w + bx + x] = samples[y * 8 + x];
    }
  }
  return out;
}

/** Copy a w×h plane into a pw×ph one, repeating the last column and row (libjpeg's edge expansion). */
function padPlane(src: Int32Array, w: number, h: number, pw: number, ph: number): Int32Array {
  const out = new Int32Array(pw * ph);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) out[y * pw + x] = src[Math.min(y, h - 1) * w + Math.min(x, w - 1)];
  return out;
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
const FIX = (x: number): number => Math.floor(x * 65536 + 0.5);

/** h2v2_downsample: 2×2 means with the alternating 1, 2 bias. */
function downsample(full: Int32Array, fw: number, cw: number, ch: number): Int32Array {
  const out = new Int32Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    let bias = 1;
    for (let x = 0; x < cw; x++) {
      const a = (2 * y * fw + 2 * x);
      out[y * cw + x] = (full[a] + full[a + 1] + full[a + fw] + full[a + fw + 1] + bias) >> 2;
      bias ^= 3;
    }
  }
  return out;
}

/** h2v2_fancy_upsample (triangle filter) of a cw×ch plane read with stride `stride`, edges repeated. */
function fancyUpsample(src: Int32Array, stride: number, cw: number, ch: number): Int32Array {
  const ow = 2 * cw;
  const out = new Int32Array(ow * 2 * ch);
  for (let y = 0; y < ch; y++) {
    for (let v = 0; v < 2; v++) {
      const y1 = v === 0 ? Math.max(0, y - 1) : Math.min(ch - 1, y + 1);
      const colsum = (x: number): number => src[y * stride + x] * 3 + src[y1 * stride + x];
      const o = (2 * y + v) * ow;
      if (cw <= 2) {
        // libjpeg-turbo takes the plain replicating upsampler for planes this narrow.
        for (let x = 0; x < ow; x++) out[o + x] = src[y * stride + (x >> 1)];
        continue;
      }
      let last = colsum(0), cur = last;
      for (let x = 0; x < cw; x++) {
        const next = x + 1 < cw ? colsum(x + 1) : cur;
        out[o + 2 * x] = x === 0 ? (cur * 4 + 8) >> 4 : (cur * 3 + last + 8) >> 4;
        out[o + 2 * x + 1] = x + 1 < cw ? (cur * 3 + next + 7) >> 4 : (cur * 4 + 7) >> 4;
        last = cur;
        cur = next;
      }
    }
  }
  return out;
}

/** Round trip of 8-bit HWC pixels (1 or 3 channels) through JPEG at `quality`. */
export function jpegRoundTripU8(px: Uint8Array, w: number, h: number, c: 1 | 3, quality: number): Uint8Array {
  const luma = quantTable(LUMA_TABLE, quality);
  const pw = roundUp8(w), ph = roundUp8(h);
  if (c === 1) {
    const decoded = codePlane(padPlane(Int32Array.from(px), w, h, pw, ph), pw, ph, luma);
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = decoded[y * pw + x];
    return out;
  }
  const chroma = quantTable(CHROMA_TABLE, quality);
  const n = w * h;
  const Y = new Int32Array(n), Cb = new Int32Array(n), Cr = new Int32Array(n);
  const half = 32768, off = 128 << 16;
  for (let i = 0; i < n; i++) {
    const r = px[3 * i], g = px[3 * i + 1], b = px[3 * i + 2];
    Y[i] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + half) >> 16;
    Cb[i] = (-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.5) * b + off + half - 1) >> 16;
    Cr[i] = (FIX(0.5) * r - FIX(0.41869) * g - FIX(0.08131) * b + off + half - 1) >> 16;
  }
  const Yd = codePlane(padPlane(Y, w, h, pw, ph), pw, ph, luma);
  const cw = Math.ceil(w / 2), ch = Math.ceil(h / 2);
  const cpw = roundUp8(cw), cph = roundUp8(ch);
  const chromaPlane = (full: Int32Array): Int32Array => {
    // libjpeg widens the full-size plane before averaging (jcsample.c) but adds the missing
    // bottom rows after it, by repeating the last averaged row (jcprepct.c); the two differ.
    const small = downsample(padPlane(full, w, h, 2 * cpw, 2 * ch), 2 * cpw, cpw, ch);
    return fancyUpsample(codePlane(padPlane(small, cpw, ch, cpw, cph), cpw, cph, chroma), cpw, cw, ch);
  };
  const Cbu = chromaPlane(Cb), Cru = chromaPlane(Cr);
  const out = new Uint8Array(n * 3);
  const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const yy = Yd[y * pw + x];
      const cb = Cbu[y * 2 * cw + x] - 128, cr = Cru[y * 2 * cw + x] - 128;
      const i = 3 * (y * w + x);
      out[i] = clamp(yy + ((FIX(1.402) * cr + half) >> 16));
      out[i + 1] = clamp(yy + ((-FIX(0.34414) * cb + half - FIX(0.71414) * cr) >> 16));
      out[i + 2] = clamp(yy + ((FIX(1.772) * cb + half) >> 16));
    }
  }
  return out;
}
