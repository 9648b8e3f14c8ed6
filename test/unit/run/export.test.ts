import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportModel } from '../../../src/engine/run/export';
import { buildLayout, initParams } from '../../../src/engine/model';
import type { ModelSpec } from '../../../src/engine/exec/types';
import { Rng } from '../../../src/engine/util/rng';
import { realExecutor } from '../train/helpers';

// The exported tfjs model must compute what the engine's main-BN eval pass computes.
async function check(spec: ModelSpec): Promise<void> {
  const layout = buildLayout(spec);
  const init = initParams(spec, 11);
  // Non-trivial BN state, so that a swapped mean/variance or a wrong BN set would show.
  const rng = new Rng(4);
  for (let i = 0; i < init.params.length; i++) init.params[i] += rng.uniform(-0.05, 0.05);
  for (const l of layout.bnLayers) {
    for (let c = 0; c < l.channels; c++) {
      init.running[l.offset + c] = rng.uniform(-0.2, 0.2);
      init.running[l.offset + l.channels + c] = rng.uniform(0.5, 1.5);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-export-'));
  const out = exportModel(dir, spec, layout, init.params, init.running);
  assert.equal(out, path.join(dir, 'export'));
  const modelJson = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(out, 'weights.bin'));
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }));
  const n = 4;
  const px = spec.inputHeight * spec.inputWidth * spec.inputChannels;
  const images = new Float32Array(n * px).map(() => rng.uniform(-1, 1));
  const y = model.predict(tf.tensor4d(images, [n, spec.inputHeight, spec.inputWidth, spec.inputChannels])) as tf.Tensor;
  const exported = y.dataSync();
  const ex = await realExecutor(spec);
  try {
    await ex.setState(init.params, init.running);
    const [r] = await ex.run([{ images, count: n, labels: new Int32Array(n), bn: 'main', training: false, groupSize: n, lossWeight: 1, paramGrads: false }]);
    assert.equal(exported.length, r.logits!.length);
    for (let i = 0; i < exported.length; i++) assert.ok(Math.abs(exported[i] - r.logits![i]) < 1e-3 * Math.max(1, Math.abs(r.logits![i])), `logit ${i}: ${exported[i]} vs ${r.logits![i]}`);
  } finally {
    await ex.dispose();
    model.dispose();
  }
}

describe('run: tfjs model export (main BN)', function () {
  this.timeout(60000);
  before(async () => {
    await tf.setBackend('cpu');
  });
  it('a CIFAR ResNet (option-A shortcuts) predicts the same logits as the engine', async () => {
    await check({ arch: 'resnet8', width: 2, inputHeight: 8, inputWidth: 8, inputChannels: 1, numClasses: 4 });
  });
  it('an ImageNet-style ResNet (projection shortcuts) predicts the same logits as the engine', async () => {
    await check({ arch: 'resnet18', width: 2, inputHeight: 9, inputWidth: 9, inputChannels: 3, numClasses: 3 });
  });
  it('the ImageNet stem (7×7 stride 2 + max pool) and bottleneck blocks export too', async () => {
    await check({ arch: 'resnet50', width: 2, inputHeight: 64, inputWidth: 64, inputChannels: 3, numClasses: 3 });
  });
});
