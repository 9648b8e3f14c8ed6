import type { ModelLayout, ModelSpec } from '../exec/types';

export function exportModel(_runDir: string, _spec: ModelSpec, _layout: ModelLayout, _params: Float32Array, _running: Float32Array): string {
  throw new Error('tfjs model export is not implemented yet');
}
