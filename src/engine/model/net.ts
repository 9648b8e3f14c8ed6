// Architecture description shared by the layout (which parameters exist, in which order) and the
// forward pass (how they are wired). Pure data, no tfjs, so the trainer and the extension can size
// a model without loading a backend.

import { MODEL_ARCHS, type ModelArch } from '../../shared/config';
import type { ModelSpec } from './types';

export interface ConvDef {
  /** Parameter name of the filter, `<name>.w`, shape [k, k, cin, cout] (tfjs HWIO). */
  name: string;
  k: number;
  cin: number;
  cout: number;
  stride: number;
}

export interface BnDef {
  name: string;
  channels: number;
}

export type Shortcut =
  | { type: 'identity' }
  /** CIFAR option A: stride-2 subsample, then zero channels before/after. */
  | { type: 'padA'; stride: number; padBefore: number; padAfter: number }
  | { type: 'proj'; conv: ConvDef; bn: BnDef };

export interface BasicBlock {
  type: 'basic';
  conv1: ConvDef;
  bn1: BnDef;
  conv2: ConvDef;
  bn2: BnDef;
  shortcut: Shortcut;
}

export interface BottleneckBlock {
  type: 'bottleneck';
  conv1: ConvDef;
  bn1: BnDef;
  conv2: ConvDef;
  bn2: BnDef;
  conv3: ConvDef;
  bn3: BnDef;
  shortcut: Shortcut;
}

export type Block = BasicBlock | BottleneckBlock;

export interface NetDef {
  stem: { conv: ConvDef; bn: BnDef; maxPool: boolean };
  blocks: Block[];
  fc: { name: string; cin: number; cout: number };
}

/** Smallest image side any arch accepts: below it the last stage has nothing left to pool. */
export const MIN_IMAGE_SIDE = 8;
/** ImageNet-style archs switch to the 7×7 stride-2 stem + max pool from this side length on. */
export const IMAGENET_STEM_MIN_SIDE = 64;

const CIFAR_DEPTH: Partial<Record<ModelArch, number>> = { resnet8: 8, resnet14: 14, resnet20: 20, resnet32: 32, resnet56: 56 };

export function isCifarArch(arch: ModelArch): boolean {
  return CIFAR_DEPTH[arch] !== undefined;
}

export function validateSpec(spec: ModelSpec): void {
  if (!MODEL_ARCHS.includes(spec.arch)) {
    throw new Error(`model.arch: unknown architecture "${String(spec.arch)}"; use one of ${MODEL_ARCHS.join(', ')}`);
  }
  if (!Number.isInteger(spec.width) || spec.width < 1) {
    throw new Error(`model.width: must be a positive integer, got ${spec.width}`);
  }
  for (const [k, v] of [['inputHeight', spec.inputHeight], ['inputWidth', spec.inputWidth], ['inputChannels', spec.inputChannels]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`model input: ${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2) {
    throw new Error(`model: numClasses must be an integer ≥ 2, got ${spec.numClasses}`);
  }
  if (spec.inputHeight < MIN_IMAGE_SIDE || spec.inputWidth < MIN_IMAGE_SIDE) {
    throw new Error(
      `model.arch "${spec.arch}" needs images of at least ${MIN_IMAGE_SIDE}×${MIN_IMAGE_SIDE} pixels, got ` +
        `${spec.inputHeight}×${spec.inputWidth}; resize the dataset (dataset.size ≥ ${MIN_IMAGE_SIDE}) or pick a dataset with larger images`,
    );
  }
}

function conv(name: string, k: number, cin: number, cout: number, stride: number): ConvDef {
  return { name, k, cin, cout, stride };
}

/** Two 3×3 convs with BN; the stride (if any) on the first, as in both CIFAR and ImageNet ResNets. */
function basicBlock(p: string, cin: number, cout: number, stride: number, shortcut: Shortcut): Block {
  return {
    type: 'basic',
    conv1: conv(`${p}.conv1`, 3, cin, cout, stride),
    bn1: { name: `${p}.bn1`, channels: cout },
    conv2: conv(`${p}.conv2`, 3, cout, cout, 1),
    bn2: { name: `${p}.bn2`, channels: cout },
    shortcut,
  };
}

export function describeNet(spec: ModelSpec): NetDef {
  validateSpec(spec);
  const w = spec.width;
  const blocks: Block[] = [];
  const depth = CIFAR_DEPTH[spec.arch];
  if (depth !== undefined) {
    const n = (depth - 2) / 6;
    const stem = { conv: conv('stem.conv', 3, spec.inputChannels, w, 1), bn: { name: 'stem.bn', channels: w }, maxPool: false };
    let cin = w;
    [w, 2 * w, 4 * w].forEach((cout, s) => {
      for (let b = 0; b < n; b++) {
        const stride = s > 0 && b === 0 ? 2 : 1;
        const p = `s${s + 1}.b${b}`;
        let shortcut: Shortcut = { type: 'identity' };
        if (stride !== 1 || cin !== cout) {
          const diff = cout - cin;
          shortcut = { type: 'padA', stride, padBefore: Math.floor(diff / 2), padAfter: diff - Math.floor(diff / 2) };
        }
        blocks.push(basicBlock(p, cin, cout, stride, shortcut));
        cin = cout;
      }
    });
    return { stem, blocks, fc: { name: 'fc', cin, cout: spec.numClasses } };
  }

  const big = Math.min(spec.inputHeight, spec.inputWidth) >= IMAGENET_STEM_MIN_SIDE;
  const stem = big
    ? { conv: conv('stem.conv', 7, spec.inputChannels, w, 2), bn: { name: 'stem.bn', channels: w }, maxPool: true }
    : { conv: conv('stem.conv', 3, spec.inputChannels, w, 1), bn: { name: 'stem.bn', channels: w }, maxPool: false };
  const bottleneck = spec.arch === 'resnet50';
  const counts = bottleneck ? [3, 4, 6, 3] : [2, 2, 2, 2];
  const expansion = bottleneck ? 4 : 1;
  let cin = w;
  counts.forEach((n, s) => {
    const planes = w << s;
    const cout = planes * expansion;
    for (let b = 0; b < n; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const p = `s${s + 1}.b${b}`;
      const shortcut: Shortcut =
        stride !== 1 || cin !== cout
          ? { type: 'proj', conv: conv(`${p}.proj.conv`, 1, cin, cout, stride), bn: { name: `${p}.proj.bn`, channels: cout } }
          : { type: 'identity' };
      if (bottleneck) {
        // Stride on the 3×3 conv (torchvision "ResNet v1.5"), as the reference's ResNet-50.
        blocks.push({
          type: 'bottleneck',
          conv1: conv(`${p}.conv1`, 1, cin, planes, 1),
          bn1: { name: `${p}.bn1`, channels: planes },
          conv2: conv(`${p}.conv2`, 3, planes, planes, stride),
          bn2: { name: `${p}.bn2`, channels: planes },
          conv3: conv(`${p}.conv3`, 1, planes, cout, 1),
          bn3: { name: `${p}.bn3`, channels: cout },
          shortcut,
        });
      } else {
        blocks.push(basicBlock(p, cin, cout, stride, shortcut));
      }
      cin = cout;
    }
  });
  return { stem, blocks, fc: { name: 'fc', cin, cout: spec.numClasses } };
}

/** Convs and BNs of a block in forward order (shortcut last), for layout enumeration. */
export function blockLayers(b: Block): Array<ConvDef | BnDef> {
  const main: Array<ConvDef | BnDef> =
    b.type === 'basic' ? [b.conv1, b.bn1, b.conv2, b.bn2] : [b.conv1, b.bn1, b.conv2, b.bn2, b.conv3, b.bn3];
  if (b.shortcut.type === 'proj') main.push(b.shortcut.conv, b.shortcut.bn);
  return main;
}

export function isConv(l: ConvDef | BnDef): l is ConvDef {
  return (l as ConvDef).k !== undefined;
}
