// Initial weights, drawn in layout order from one seeded stream so a run is reproducible from its
// seed alone and independent of how many workers later train it.

import type { ModelSpec } from './types';
import { Rng } from '../util/rng';
import { buildLayout } from './layout';

export interface InitialState {
  params: Float32Array;
  running: Float32Array;
}

export function initParams(spec: ModelSpec, seed: number): InitialState {
  const layout = buildLayout(spec);
  const rng = new Rng(seed);
  const params = new Float32Array(layout.paramCount);
  for (const p of layout.params) {
    const out = params.subarray(p.offset, p.offset + p.size);
    if (p.name.endsWith('.gamma')) {
      out.fill(1);
    } else if (p.name.endsWith('.beta')) {
      out.fill(0);
    } else if (p.shape.length === 4) {
      // kaiming_normal_(mode='fan_out', nonlinearity='relu'), as torchvision ResNets.
      const [kh, kw, , cout] = p.shape;
      const std = Math.sqrt(2 / (kh * kw * cout));
      for (let i = 0; i < out.length; i++) out[i] = rng.normal(0, std);
    } else {
      // nn.Linear default: weight and bias uniform in ±1/sqrt(fan_in).
      const fanIn = p.name.endsWith('.w') ? p.shape[0] : layout.params.find((q) => q.name === p.name.replace(/\.b$/, '.w'))!.shape[0];
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-bound, bound);
    }
  }
  const running = new Float32Array(layout.runningCount);
  for (const l of layout.bnLayers) running.fill(1, l.offset + l.channels, l.offset + 2 * l.channels);
  return { params, running };
}
