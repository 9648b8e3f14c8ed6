export { selectBackend, BackendUnavailableError } from './select';
export type { SelectOptions } from './select';
export { installTrainingGradients, setConvGradOverride, policyFor, conv2dFilterGradAsConv, conv2dInputGradAsConv } from './convGrad';
export type { ConvGradPolicy, GradPath } from './convGrad';
export { stridedSliceGrad } from './sliceGrad';
export { configureWasmPaths, findWasmDir } from './wasmPaths';
