// What a model is, independent of how its passes are run: the architecture spec and the layout of
// the flat parameter and running-statistics vectors. Below exec/ (which runs passes over it) and
// train/ (which owns the vectors), so model/ depends on nothing above it.

import type { ModelArch } from '../../shared/config';

export type ParamGroup = 'shared' | 'clean' | 'adv';
export type BnSet = 'main' | 'aux';

export interface ModelSpec {
  arch: ModelArch;
  /** Channel multiplier: base width of the first stage (16 for the classic CIFAR ResNets). */
  width: number;
  inputHeight: number;
  inputWidth: number;
  inputChannels: number;
  numClasses: number;
}

/** One trainable tensor inside the flat parameter vector. */
export interface ParamInfo {
  name: string;
  shape: number[];
  group: ParamGroup;
  offset: number;
  size: number;
}

/** One BN layer's running statistics inside the flat running-stats vector (mean then var, `channels` each). */
export interface BnLayerInfo {
  name: string;
  set: BnSet;
  channels: number;
  /** Offset of the mean; the variance follows at offset + channels. */
  offset: number;
}

export interface ModelLayout {
  params: ParamInfo[];
  paramCount: number;
  bnLayers: BnLayerInfo[];
  runningCount: number;
  /** Counts per parameter group (checked at build time: every parameter is in exactly one group). */
  groupCounts: Record<ParamGroup, number>;
}
