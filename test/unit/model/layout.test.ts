import * as assert from 'node:assert/strict';
import type { ModelSpec } from '../../../src/engine/exec/types';
import { buildLayout, bnSetOffset, bnSetSize } from '../../../src/engine/model/layout';
import { initParams } from '../../../src/engine/model/init';
import { describeNet } from '../../../src/engine/model/net';

const cifar = (arch: ModelSpec['arch'], over: Partial<ModelSpec> = {}): ModelSpec => ({
  arch, width: 16, inputHeight: 32, inputWidth: 32, inputChannels: 3, numClasses: 10, ...over,
});

describe('model: layout', () => {
  it('ResNet-20 (w16, 10 classes) has the classic 0.27M model\'s conv + dense weights and equal BN sets', () => {
    const l = buildLayout(cifar('resnet20'));
    // Classic CIFAR ResNet-20: convs 432 + 6·2304 + (4608 + 5·9216) + (18432 + 5·36864), fc 64·10 + 10.
    const convs = 432 + 6 * 2304 + (4608 + 5 * 9216) + (18432 + 5 * 36864);
    assert.equal(l.groupCounts.shared, convs + 650);
    assert.equal(l.groupCounts.shared, 268346);
    // 19 BN layers with 16·7 + 32·6 + 64·6 channels, gamma + beta each.
    assert.equal(l.groupCounts.clean, 2 * (16 * 7 + 32 * 6 + 64 * 6));
    assert.equal(l.groupCounts.adv, l.groupCounts.clean);
    // With one BN set it is the 0.27M model (269,722 parameters).
    assert.equal(l.groupCounts.shared + l.groupCounts.clean, 269722);
    assert.equal(l.runningCount, 2 * l.groupCounts.clean);
  });

  it('ImageNet ResNet-18/50 with one BN set match torchvision\'s parameter counts', () => {
    const r18 = buildLayout(cifar('resnet18', { width: 64, inputHeight: 224, inputWidth: 224, numClasses: 1000 }));
    assert.equal(r18.groupCounts.shared + r18.groupCounts.clean, 11689512);
    const r50 = buildLayout(cifar('resnet50', { width: 64, inputHeight: 224, inputWidth: 224, numClasses: 1000 }));
    assert.equal(r50.groupCounts.shared + r50.groupCounts.clean, 25557032);
  });

  it('has depth 6n+2 for every CIFAR arch', () => {
    for (const [arch, depth] of [['resnet8', 8], ['resnet14', 14], ['resnet32', 32], ['resnet56', 56]] as const) {
      const l = buildLayout(cifar(arch));
      const convs = l.params.filter((p) => p.shape.length === 4).length;
      assert.equal(convs + 1, depth, arch);
    }
  });

  it('puts every parameter in exactly one group, contiguously, with the right group per kind', () => {
    for (const spec of [cifar('resnet8', { width: 3 }), cifar('resnet18', { width: 4 }), cifar('resnet50', { width: 4, inputHeight: 64, inputWidth: 64 })]) {
      const l = buildLayout(spec);
      let off = 0;
      const names = new Set<string>();
      const sums = { shared: 0, clean: 0, adv: 0 };
      for (const p of l.params) {
        assert.equal(p.offset, off);
        assert.equal(p.size, p.shape.reduce((a, b) => a * b, 1));
        assert.ok(!names.has(p.name), p.name);
        names.add(p.name);
        off += p.size;
        sums[p.group] += p.size;
        const expected = p.name.includes('.main.') ? 'clean' : p.name.includes('.aux.') ? 'adv' : 'shared';
        assert.equal(p.group, expected, p.name);
      }
      assert.equal(off, l.paramCount);
      assert.deepEqual(sums, l.groupCounts);
    }
  });

  it('keeps each BN set\'s running statistics contiguous (mean then var per layer)', () => {
    const l = buildLayout(cifar('resnet8', { width: 4 }));
    const main = l.bnLayers.filter((b) => b.set === 'main');
    const aux = l.bnLayers.filter((b) => b.set === 'aux');
    assert.deepEqual(main.map((b) => b.name), aux.map((b) => b.name));
    assert.equal(bnSetOffset(l, 'main'), 0);
    assert.equal(bnSetOffset(l, 'aux'), bnSetSize(l, 'main'));
    let off = 0;
    for (const b of l.bnLayers) {
      assert.equal(b.offset, off);
      off += 2 * b.channels;
    }
    assert.equal(off, l.runningCount);
  });

  it('uses the 7×7 stem + max pool from 64 px and the 3×3 stem below', () => {
    assert.equal(describeNet(cifar('resnet18', { inputHeight: 64, inputWidth: 64 })).stem.conv.k, 7);
    assert.equal(describeNet(cifar('resnet18', { inputHeight: 64, inputWidth: 64 })).stem.maxPool, true);
    assert.equal(describeNet(cifar('resnet18', { inputHeight: 63, inputWidth: 64 })).stem.conv.k, 3);
    assert.equal(describeNet(cifar('resnet18')).stem.maxPool, false);
  });

  it('rejects unknown archs and too-small images with an error naming model.arch and the fix', () => {
    assert.throws(() => buildLayout(cifar('resnet99' as ModelSpec['arch'])), /model\.arch.*resnet99.*use one of/);
    assert.throws(() => buildLayout(cifar('resnet20', { inputHeight: 7, inputWidth: 32 })), (e: Error) => {
      assert.match(e.message, /model\.arch "resnet20"/);
      assert.match(e.message, /at least 8×8/);
      assert.match(e.message, /7×32/);
      assert.match(e.message, /dataset\.size/);
      return true;
    });
    assert.throws(() => buildLayout(cifar('resnet50', { inputHeight: 4, inputWidth: 4 })), /model\.arch "resnet50"/);
    assert.throws(() => buildLayout(cifar('resnet20', { width: 0 })), /model\.width/);
    assert.throws(() => buildLayout(cifar('resnet20', { numClasses: 1 })), /numClasses/);
  });
});

describe('model: initParams', () => {
  const spec = cifar('resnet8', { width: 8 });
  it('is deterministic in the seed', () => {
    const a = initParams(spec, 3);
    const b = initParams(spec, 3);
    const c = initParams(spec, 4);
    assert.deepEqual(a.params, b.params);
    assert.notDeepEqual(a.params, c.params);
  });

  it('uses gamma 1 / beta 0, running mean 0 / var 1, He fan_out convs and PyTorch-style dense', () => {
    const l = buildLayout(spec);
    const { params, running } = initParams(spec, 5);
    for (const p of l.params) {
      const v = params.subarray(p.offset, p.offset + p.size);
      if (p.name.endsWith('.gamma')) assert.ok(v.every((x) => x === 1), p.name);
      else if (p.name.endsWith('.beta')) assert.ok(v.every((x) => x === 0), p.name);
      else if (p.shape.length === 4) {
        const [k, , , cout] = p.shape;
        let s2 = 0;
        for (const x of v) s2 += x * x;
        const std = Math.sqrt(s2 / v.length);
        const want = Math.sqrt(2 / (k * k * cout));
        // Tolerance ≈ 4 standard errors of a std estimate from v.length samples.
        assert.ok(Math.abs(std / want - 1) < 4 / Math.sqrt(2 * v.length) + 0.02, `${p.name}: std ${std} vs ${want}`);
      } else {
        const bound = 1 / Math.sqrt(l.params.find((q) => q.name === 'fc.w')!.shape[0]);
        assert.ok(v.every((x) => Math.abs(x) <= bound), p.name);
        assert.ok(v.some((x) => Math.abs(x) > bound / 2), p.name);
      }
    }
    for (const b of l.bnLayers) {
      assert.ok(running.subarray(b.offset, b.offset + b.channels).every((x) => x === 0));
      assert.ok(running.subarray(b.offset + b.channels, b.offset + 2 * b.channels).every((x) => x === 1));
    }
  });
});
