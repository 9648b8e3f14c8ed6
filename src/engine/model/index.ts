export { buildLayout, bnSetOffset, bnSetSize, paramIndex } from './layout';
export { initParams, type InitialState } from './init';
export { describeNet, validateSpec, MIN_IMAGE_SIDE, IMAGENET_STEM_MIN_SIDE } from './net';
export { compileModel, forward, crossEntropySum, BN_EPS } from './forward';
