// A stand-in Replica for pool tests: cheap, deterministic arithmetic with the same data
// dependencies as the real one (per-sample loss and gradients, per-group statistics), plus
// triggers for failures. Loaded inside workers by path, so it must stay a plain module.
import type { ModelLayout, ModelSpec, PassRequest, PassResult, Replica } from '../../../src/engine/exec/types';

export const FAKE_PARAMS = 6;
/** labels[0] === THROW_LABEL makes runPass throw; EXIT_LABEL kills the thread. */
export const THROW_LABEL = -1;
export const EXIT_LABEL = -2;

export function createReplica(spec: ModelSpec): Replica {
  const layout: ModelLayout = {
    params: [{ name: 'w', shape: [FAKE_PARAMS], group: 'shared', offset: 0, size: FAKE_PARAMS }],
    paramCount: FAKE_PARAMS,
    bnLayers: [{ name: 'bn', set: 'main', channels: 1, offset: 0 }, { name: 'bn.aux', set: 'aux', channels: 1, offset: 2 }],
    runningCount: 4,
    groupCounts: { shared: FAKE_PARAMS, clean: 0, adv: 0 },
  };
  let w = new Float32Array(FAKE_PARAMS);
  const px = spec.inputHeight * spec.inputWidth * spec.inputChannels;
  return {
    layout,
    setState(params) {
      w = Float32Array.from(params);
    },
    async runPassAsync(req: PassRequest): Promise<PassResult> {
      return this.runPass(req);
    },
    runPass(req: PassRequest): PassResult {
      if (req.labels[0] === THROW_LABEL) throw new Error('fake replica: asked to fail');
      if (req.labels[0] === EXIT_LABEL) process.exit(3);
      const x = Float32Array.from(req.images);
      if (req.attack?.noise) for (let i = 0; i < x.length; i++) x[i] += req.attack.noise[i];
      const s = new Float64Array(req.count);
      for (let i = 0; i < req.count; i++) for (let j = 0; j < px; j++) s[i] += x[i * px + j] * w[j % FAKE_PARAMS];
      const groups = req.training ? req.count / req.groupSize : 1;
      const stats = new Float32Array(2);
      if (req.training) {
        for (let g = 0; g < groups; g++) {
          let m = 0;
          let v = 0;
          for (let i = g * req.groupSize; i < (g + 1) * req.groupSize; i++) m += s[i] / req.groupSize;
          for (let i = g * req.groupSize; i < (g + 1) * req.groupSize; i++) v += (s[i] - m) ** 2 / req.groupSize;
          stats[0] += m / groups;
          stats[1] += v / groups;
        }
      }
      let lossSum = 0;
      let correct = 0;
      const grads = new Float32Array(FAKE_PARAMS);
      for (let i = 0; i < req.count; i++) {
        const loss = Math.abs(s[i]) + req.labels[i];
        lossSum += loss;
        if ((s[i] > 0 ? 1 : 0) === req.labels[i] % 2) correct++;
        for (let j = 0; j < FAKE_PARAMS; j++) grads[j] += req.lossWeight * Math.sign(s[i]) * x[i * px + j];
      }
      const out: PassResult = { lossSum, correct, count: req.count, bnStats: req.training ? [{ values: stats, groupSize: req.groupSize, groups }] : [] };
      if (req.paramGrads) out.grads = grads;
      if (req.attack) {
        out.advImages = x;
        out.attackLossSum = lossSum / 2;
        out.attackCorrect = correct;
      }
      if (!req.training && !req.paramGrads) out.logits = Float32Array.from(s, (v) => v);
      return out;
    },
    dispose() {},
  };
}
