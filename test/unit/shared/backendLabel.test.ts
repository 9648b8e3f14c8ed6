import * as assert from 'node:assert/strict';
import { adapterLabel, backendLabel } from '../../../src/shared/backendLabel';
import type { AdapterDescription } from '../../../src/shared/runFormat';
import { runDescription, runTooltip } from '../../../src/extension/runGroups';
import type { RunSnapshot } from '../../../src/extension/runSnapshot';

// What Dawn reports: on Vulkan the card's name is the description; on OpenGL (Mesa) the renderer
// is in `device` and the description is "OpenGL version …" (seen on this project's machines).
const h100: AdapterDescription = { vendor: 'nvidia', architecture: 'hopper', device: '0x2330', description: 'NVIDIA H100 80GB HBM3', api: 'vulkan', fallback: false, software: false };
const llvmpipe: AdapterDescription = { vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6', api: 'opengl', fallback: false, software: true };

describe('backend labels', () => {
  it('names the GPU by its card, and a software adapter as such', () => {
    assert.equal(adapterLabel(h100), 'NVIDIA H100 80GB HBM3');
    assert.equal(adapterLabel(llvmpipe), 'llvmpipe (software)');
    assert.equal(adapterLabel({ ...h100, description: '' , device: '' }), 'nvidia hopper');
    assert.equal(backendLabel({ name: 'webgpu', gpu: true, workers: 1, adapter: h100 }), 'webgpu · NVIDIA H100 80GB HBM3');
    assert.equal(backendLabel({ name: 'wasm', gpu: false, workers: 2 }), 'wasm ×2');
    assert.equal(backendLabel({ name: 'cpu', gpu: false, workers: 1 }), 'cpu');
    assert.equal(backendLabel({ name: 'tensorflow', gpu: true, workers: 1 }), 'tensorflow (GPU)');
  });

  it('the Runs view shows a GPU run\'s card after its figures, and every run\'s backend in the tooltip', () => {
    const backend = { name: 'webgpu', requested: 'auto', package: 'webgpu', gpu: true, reason: 'r', attempts: [], workers: 1, adapter: h100 };
    const s = {
      runDir: '/runs/g', name: 'g', metrics: [], alive: false, crashed: false, createdMs: 0,
      status: { schema: 1, state: 'completed', pid: null, startedAt: null, updatedAt: '', progress: { epoch: 4, epochs: 4, step: 100, totalSteps: 100 } },
      config: { config: { method: 'vanilla', attack: { steps: 1 }, model: { arch: 'resnet8', width: 4 }, dataset: { name: 'x' } }, backend },
    } as unknown as RunSnapshot;
    assert.match(runDescription(s), /vanilla · .*webgpu · NVIDIA H100 80GB HBM3$/);
    assert.match(runTooltip(s), /^Backend: webgpu · NVIDIA H100 80GB HBM3$/m);
    const cpu = { ...s, config: { ...s.config, backend: { ...backend, name: 'wasm', gpu: false, adapter: undefined } } } as unknown as RunSnapshot;
    assert.doesNotMatch(runDescription(cpu), /wasm/);
    assert.match(runTooltip(cpu), /^Backend: wasm$/m);
  });
});
