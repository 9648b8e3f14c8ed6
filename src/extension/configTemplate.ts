// The "New Run Config" template: every commonly changed key with its default and a one-line why.
// Pure; a unit test parses it with the real config parser so it never drifts into invalid JSON.
import { DEFAULT_CONFIG } from '../shared/config';

/**
 * No "$schema" key: the extension's jsonValidation already binds *.advprop.json to its schema, and a
 * URL into the installed extension would name a versioned folder that the next update deletes.
 */
export function runConfigTemplate(name: string, dataset: Record<string, unknown> = { name: DEFAULT_CONFIG.dataset.name }): string {
  const d = DEFAULT_CONFIG;
  const j = (v: unknown) => JSON.stringify(v);
  // A streamed image folder is ImageNet-style training: the paper's recipe crops at random.
  const streamed = dataset.loader === 'stream';
  return `// Fast AdvProp run config. Start it with "Fast AdvProp: Start Training" (or the lens above).
// Every key is optional: a missing key takes the default shown here. Hover a key for its meaning.
{
  "name": ${j(name)},

  // vanilla | advprop | fast-advprop
  "method": ${j(d.method)},
  // clean:adv images per step; "4:1" attacks 20% of each batch (p_adv = 0.2).
  "split": ${j(d.split)},

  "attack": {
    // K, the PGD steps; Fast AdvProp uses 1.
    "steps": ${d.attack.steps},
    // In 1/255 pixel units.
    "epsilon": ${d.attack.epsilon},
    "stepSize": ${d.attack.stepSize},
    "randomStart": ${j(d.attack.randomStart)},
    "targeted": ${d.attack.targeted}
  },

  // Fast AdvProp's components; turn one off for an ablation.
  "reuseGradients": ${d.reuseGradients},
  "shuffleBN": ${d.shuffleBN},
  "bnGroups": ${d.bnGroups},
  "beta": ${d.beta},
  "syncUpdateSpeed": ${d.syncUpdateSpeed},
  "decouple": ${d.decouple},
  // Shrinks the epochs so the run costs what vanilla training would.
  "sameBudget": ${d.sameBudget},

  "epochs": ${d.epochs},
  "milestones": ${j(d.milestones)},
  "batchSize": ${d.batchSize},
  "lr": ${d.lr},
  "momentum": ${d.momentum},
  "weightDecay": ${d.weightDecay},

  "model": { "arch": ${j(d.model.arch)}, "width": ${d.model.width} },
  // fashion-mnist-subset (embedded, offline) | idx | cifar10 | cifar100 | image-folder (these need "path").
  // image-folder takes "loader": "stream" for large folders (random-resized crop at "size" px).
  "dataset": ${JSON.stringify(dataset).replace(/,"/g, ', "').replace(/":/g, '": ').replace(/^\{/, '{ ').replace(/\}$/, ' }')},
  // crop: random crop (pad-crop on in-memory data; on a streamed folder the paper's random-resized crop, else its center crop).
  "augment": { "crop": ${streamed ? true : d.augment.crop}, "flip": ${d.augment.flip}, "mixupAlpha": ${d.augment.mixupAlpha}, "cutmixAlpha": ${d.augment.cutmixAlpha} },

  "seed": ${d.seed},
  // auto picks tfjs-node-gpu, then tfjs-node, then wasm, then cpu.
  "backend": ${j(d.backend)},
  // 0 = train to the end; a small number is a quick smoke test.
  "maxSteps": ${d.maxSteps},
  "logEvery": ${d.logEvery},
  "autoEvaluate": ${d.autoEvaluate}
}
`;
}

/** A config file name stem from user input, or an explanation of what is wrong with it. */
export function validateConfigName(input: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(input)) return 'Use letters, digits, ".", "_" or "-", starting with a letter or digit.';
  return undefined;
}
