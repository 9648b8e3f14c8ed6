import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATASET_KINDS, datasetSection, probeDataset } from '../../../src/extension/newRunConfig/datasetProbe';
import { runConfigTemplate } from '../../../src/extension/configTemplate';
import { parseConfigText } from '../../../src/shared/config';

const kind = (name: string, loader?: string) => DATASET_KINDS.find((k) => k.section.name === name && k.section.loader === loader)!;

describe('extension: New Run Config dataset choice', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-probe-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mk = (rel: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), '');
  };

  it('accepts each kind\'s layout and refuses others in one line: expected, then found', () => {
    const img = kind('image-folder', 'stream');
    mk('train/a/1.jpg');
    mk('images/x.jpg');
    assert.equal(probeDataset(img, dir), `${img.label} expects train/<class>/* with val/<class>/* or test/<class>/* (or Tiny-ImageNet: val/images + val/val_annotations.txt); found images/, train/ in ${dir}`);
    mk('val/a/1.jpg');
    assert.equal(probeDataset(img, dir), undefined);
    const c10 = kind('cifar10');
    assert.match(probeDataset(c10, dir)!, /^CIFAR-10 expects cifar-10-batches-py\/ .*; found images\/, train\/, val\/ in /);
    mk('cifar-10-batches-py/data_batch_1');
    assert.equal(probeDataset(c10, dir), undefined);
    mk('cifar-100-python.tar.gz');
    assert.equal(probeDataset(kind('cifar100'), path.join(dir, 'cifar-100-python.tar.gz')), undefined);
    assert.match(probeDataset(kind('idx'), path.join(dir, 'cifar-100-python.tar.gz'))!, /is a file; IDX files \(MNIST format\) expects a folder/);
    assert.equal(probeDataset(kind('fashion-mnist-subset'), '/nowhere'), undefined);
    assert.ok(!probeDataset(c10, path.join(dir, 'missing'))!.includes('\n'));
  });

  it('writes a config the engine\'s own parser accepts, with the path relative to the config folder when inside it', () => {
    for (const k of DATASET_KINDS) {
      const section = datasetSection(k, k.pick ? path.join(dir, 'data') : undefined, dir);
      if (k.pick) assert.equal(section.path, 'data');
      const cfg = parseConfigText(runConfigTemplate('x', section));
      assert.equal(cfg.dataset.name, k.section.name);
      if (k.section.loader) assert.equal(cfg.dataset.loader, 'stream');
      // The streamed folder gets the paper's random-resized crop; the default job keeps its own augmentation.
      assert.equal(cfg.augment.crop, k.section.loader === 'stream', `augment.crop for ${k.section.name}/${k.section.loader ?? 'memory'}`);
    }
    assert.equal(datasetSection(kind('cifar10'), '/data/cifar', dir).path, '/data/cifar');
  });
});
