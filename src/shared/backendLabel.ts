// How a run's backend is named to the user: the same words in the CLI log, the dashboard's backend
// chip and the Runs view, so "webgpu · NVIDIA H100" means one thing everywhere.
import type { AdapterDescription, BackendInfo } from './runFormat';

/** "NVIDIA H100 80GB HBM3", or "llvmpipe (software)" for a CPU rasteriser. */
export function adapterLabel(a: AdapterDescription): string {
  // Dawn's OpenGL backend puts the renderer in `device` and "OpenGL version …" in `description`.
  const named = [a.description, a.device].map((t) => (t ?? '').replace(/\s+/g, ' ').trim()).filter((t) => t && !/^(OpenGL|Vulkan)\b/i.test(t));
  const name = named[0] || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return a.software ? `${name.split(/[\s(-]/)[0]} (software)` : name;
}

/** "webgpu · NVIDIA H100 80GB HBM3", "wasm ×2", "tensorflow (GPU)". */
export function backendLabel(b: Pick<BackendInfo, 'name' | 'gpu' | 'workers'> & { adapter?: AdapterDescription }): string {
  if (b.adapter) return `${b.name} · ${adapterLabel(b.adapter)}`;
  if (b.name === 'tensorflow' && b.gpu) return 'tensorflow (GPU)';
  return b.workers > 1 ? `${b.name} ×${b.workers}` : b.name;
}
