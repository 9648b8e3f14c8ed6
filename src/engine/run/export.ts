import * as path from 'node:path';
import { BN_EPS } from '../model/forward';
import { describeNet, type BnDef, type ConvDef, type Shortcut } from '../model/net';
import type { ModelLayout, ModelSpec } from '../exec/types';
import { mkdirForWrite, writeFileAtomic } from './atomic';

// Inference export in the TensorFlow.js layers format (model.json + weights.bin), loadable with
// tf.loadLayersModel. Only the main BN set is exported: evaluation and deployment use the clean
// branch. The graph mirrors src/engine/model/forward.ts layer for layer; the CIFAR option-A
// shortcut (subsample + zero channels), which Keras has no layer for, becomes a 1×1 max-pool with
// stride 2 and a fixed 1×1 conv that places the input channels between the zero padding.

export const EXPORT_DIR = 'export';

interface KLayer {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: unknown[];
}

interface WeightEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface ExportedModel {
  modelJson: Record<string, unknown>;
  weightData: ArrayBuffer;
}

export function buildExport(spec: ModelSpec, layout: ModelLayout, params: Float32Array, running: Float32Array): ExportedModel {
  const net = describeNet(spec);
  const layers: KLayer[] = [];
  const weights: WeightEntry[] = [];
  const pIndex = new Map(layout.params.map((p) => [p.name, p]));
  const param = (name: string): Float32Array => {
    const p = pIndex.get(name);
    if (!p) throw new Error(`export: no parameter ${name} in the layout`);
    return params.slice(p.offset, p.offset + p.size);
  };
  const runningOf = (bn: string): { mean: Float32Array; variance: Float32Array } => {
    const l = layout.bnLayers.find((x) => x.set === 'main' && x.name === bn);
    if (!l) throw new Error(`export: no running statistics for ${bn}`);
    return { mean: running.slice(l.offset, l.offset + l.channels), variance: running.slice(l.offset + l.channels, l.offset + 2 * l.channels) };
  };
  const used = new Set<string>();
  const uniq = (base: string): string => {
    let n = base.replace(/[^A-Za-z0-9_]/g, '_');
    for (let i = 2; used.has(n); i++) n = `${base.replace(/[^A-Za-z0-9_]/g, '_')}_${i}`;
    used.add(n);
    return n;
  };
  const add = (className: string, base: string, config: Record<string, unknown>, inputs: string[]): string => {
    const name = uniq(base);
    layers.push({
      class_name: className, name,
      config: { name, trainable: true, ...config },
      inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [],
    });
    return name;
  };

  const input = uniq('input');
  layers.push({ class_name: 'InputLayer', name: input, inbound_nodes: [], config: { name: input, batch_input_shape: [null, spec.inputHeight, spec.inputWidth, spec.inputChannels], dtype: 'float32', sparse: false } });

  const conv = (x: string, c: ConvDef): string => {
    let h = x;
    let padding = 'same';
    if (c.stride !== 1) {
      const pad = (c.k - 1) >> 1;
      if (pad > 0) h = add('ZeroPadding2D', `${c.name}_pad`, { padding: [[pad, pad], [pad, pad]], data_format: 'channels_last' }, [h]);
      padding = 'valid';
    }
    const name = add('Conv2D', c.name, {
      filters: c.cout, kernel_size: [c.k, c.k], strides: [c.stride, c.stride], padding, data_format: 'channels_last',
      dilation_rate: [1, 1], activation: 'linear', use_bias: false,
    }, [h]);
    weights.push({ name: `${name}/kernel`, shape: [c.k, c.k, c.cin, c.cout], data: param(`${c.name}.w`) });
    return name;
  };
  const bn = (x: string, b: BnDef): string => {
    const name = add('BatchNormalization', b.name, { axis: -1, momentum: 0.9, epsilon: BN_EPS, center: true, scale: true }, [x]);
    const r = runningOf(b.name);
    weights.push(
      { name: `${name}/gamma`, shape: [b.channels], data: param(`${b.name}.main.gamma`) },
      { name: `${name}/beta`, shape: [b.channels], data: param(`${b.name}.main.beta`) },
      { name: `${name}/moving_mean`, shape: [b.channels], data: r.mean },
      { name: `${name}/moving_variance`, shape: [b.channels], data: r.variance },
    );
    return name;
  };
  const relu = (x: string, base: string): string => add('Activation', `${base}_relu`, { activation: 'relu' }, [x]);
  const shortcut = (x: string, s: Shortcut, base: string, cin: number): string => {
    if (s.type === 'identity') return x;
    if (s.type === 'proj') return bn(conv(x, s.conv), s.bn);
    let y = x;
    if (s.stride === 2) y = add('MaxPooling2D', `${base}_sub`, { pool_size: [1, 1], strides: [2, 2], padding: 'valid', data_format: 'channels_last' }, [y]);
    if (s.padBefore > 0 || s.padAfter > 0) {
      const cout = cin + s.padBefore + s.padAfter;
      const k = new Float32Array(cin * cout);
      for (let i = 0; i < cin; i++) k[i * cout + s.padBefore + i] = 1;
      y = add('Conv2D', `${base}_chpad`, { filters: cout, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: false, trainable: false }, [y]);
      weights.push({ name: `${y}/kernel`, shape: [1, 1, cin, cout], data: k });
    }
    return y;
  };

  let h = relu(bn(conv(input, net.stem.conv), net.stem.bn), 'stem');
  let channels = net.stem.conv.cout;
  if (net.stem.maxPool) {
    h = add('ZeroPadding2D', 'stem_pool_pad', { padding: [[1, 1], [1, 1]], data_format: 'channels_last' }, [h]);
    h = add('MaxPooling2D', 'stem_pool', { pool_size: [3, 3], strides: [2, 2], padding: 'valid', data_format: 'channels_last' }, [h]);
  }
  net.blocks.forEach((b, i) => {
    const base = `block${i}`;
    let y: string;
    if (b.type === 'basic') {
      y = relu(bn(conv(h, b.conv1), b.bn1), `${base}_1`);
      y = bn(conv(y, b.conv2), b.bn2);
    } else {
      y = relu(bn(conv(h, b.conv1), b.bn1), `${base}_1`);
      y = relu(bn(conv(y, b.conv2), b.bn2), `${base}_2`);
      y = bn(conv(y, b.conv3), b.bn3);
    }
    const sc = shortcut(h, b.shortcut, base, channels);
    h = relu(add('Add', `${base}_add`, {}, [y, sc]), `${base}_out`);
    channels = b.type === 'basic' ? b.conv2.cout : b.conv3.cout;
  });
  const pooled = add('GlobalAveragePooling2D', 'pool', { data_format: 'channels_last' }, [h]);
  const fc = add('Dense', net.fc.name, { units: net.fc.cout, activation: 'linear', use_bias: true }, [pooled]);
  weights.push({ name: `${fc}/kernel`, shape: [net.fc.cin, net.fc.cout], data: param(`${net.fc.name}.w`) }, { name: `${fc}/bias`, shape: [net.fc.cout], data: param(`${net.fc.name}.b`) });

  const total = weights.reduce((a, w) => a + w.data.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const w of weights) {
    all.set(w.data, o);
    o += w.data.length;
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'fast-advprop',
    convertedBy: null,
    modelTopology: {
      class_name: 'Model',
      config: { name: `${spec.arch}_main_bn`, layers, input_layers: [[input, 0, 0]], output_layers: [[fc, 0, 0]] },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
    // Inputs are NHWC images scaled to [-1, 1] (pixel / 127.5 − 1); outputs are logits.
    userDefinedMetadata: { input: 'NHWC float32, pixel/127.5 - 1', output: 'logits', arch: spec.arch, width: spec.width, numClasses: spec.numClasses },
  };
  return { modelJson, weightData: all.buffer };
}

/** Writes `<runDir>/export/model.json` + `weights.bin`; returns the folder. */
export function exportModel(runDir: string, spec: ModelSpec, layout: ModelLayout, params: Float32Array, running: Float32Array, outDir = path.join(runDir, EXPORT_DIR)): string {
  const { modelJson, weightData } = buildExport(spec, layout, params, running);
  mkdirForWrite(outDir);
  // Weights first: a reader that finds model.json finds its weights too.
  writeFileAtomic(path.join(outDir, 'weights.bin'), new Uint8Array(weightData));
  writeFileAtomic(path.join(outDir, 'model.json'), JSON.stringify(modelJson));
  return outDir;
}
