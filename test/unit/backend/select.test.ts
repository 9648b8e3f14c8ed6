import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, selectBackend } from '../../../src/engine/backend/select';
import { releaseWebGpu } from '../../../src/engine/backend/webgpu';

describe('backend: selectBackend', () => {
  it('auto records the failed tfjs-node-gpu attempt and falls back to wasm', async () => {
    const info = await selectBackend('auto');
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(info.requested, 'auto');
    assert.equal(info.package, '@tensorflow/tfjs-backend-wasm');
    assert.equal(info.gpu, false);
    const gpu = info.attempts.find((a) => a.backend === 'tensorflow-gpu');
    assert.ok(gpu && !gpu.ok && /tfjs-node-gpu/.test(gpu.error ?? ''), JSON.stringify(info.attempts));
    assert.deepEqual(info.attempts.map((a) => a.backend), ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm']);
    assert.deepEqual(info.attempts.map((a) => a.ok), [false, false, false, true]);
    // This machine has no GPU: auto must not train on Mesa's software adapter even where Dawn finds it.
    assert.match(info.attempts[1].error ?? '', /Vulkan|software adapter/);
    assert.match(info.reason, /wasm/);
    assert.match(info.reason, /tensorflow-gpu unavailable/);
    assert.ok(!info.reason.includes('\n'));
  });

  it('an explicit unavailable backend fails with a message naming the backend setting and the fix', async () => {
    await assert.rejects(selectBackend('tensorflow-gpu'), (e: unknown) => {
      assert.ok(e instanceof BackendUnavailableError);
      assert.match(e.message, /"backend" setting/);
      assert.match(e.message, /@tensorflow\/tfjs-node-gpu/);
      assert.match(e.message, /auto/);
      assert.equal(e.attempts.length, 1);
      return true;
    });
    await assert.rejects(selectBackend('tensorflow'), /"backend" setting to "auto"/);
  });

  it('explicit wasm and cpu load only that backend', async () => {
    const cpu = await selectBackend('cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(cpu.attempts, [{ backend: 'cpu', ok: true }]);
    const wasm = await selectBackend('wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.deepEqual(wasm.attempts, [{ backend: 'wasm', ok: true }]);
  });

  it('a GPU package that loads but fails is recorded with its error (injected loader)', async () => {
    const seen: string[] = [];
    const info = await selectBackend('auto', {
      load: (pkg) => {
        seen.push(pkg);
        throw new Error(`libcudart.so.11.0: cannot open shared object file (${pkg})`);
      },
    });
    assert.equal(seen[0], '@tensorflow/tfjs-node-gpu');
    assert.ok(seen.includes('@tensorflow/tfjs-node'), seen.join(', '));
    assert.match(info.attempts[0].error ?? '', /libcudart/);
    assert.equal(info.name, 'wasm');
  });

  it('webgpu by name whose Dawn binary cannot load fails in one line naming the fix; auto falls back', async () => {
    releaseWebGpu();
    const load = (): never => {
      throw new Error('dawn.node: cannot open shared object file');
    };
    await assert.rejects(selectBackend('webgpu', { load }), (e: unknown) => {
      assert.ok(e instanceof BackendUnavailableError);
      assert.equal(e.attempts.length, 1);
      assert.equal(e.attempts[0].backend, 'webgpu');
      assert.match(e.message, /webgpu: dawn\.node: cannot open shared object file/);
      assert.match(e.message, /libvulkan1/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    const auto = await selectBackend('auto', { load });
    assert.equal(auto.name, 'wasm');
    assert.equal(auto.attempts.find((a) => a.backend === 'webgpu')?.ok, false);
  });
});
