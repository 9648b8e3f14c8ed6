import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const EMBEDDED_DATASET = 'fashion-mnist-subset';
const MARKER = 'train-images-idx3-ubyte.gz';

/**
 * Folders where the bundled subset may sit. The same code runs bundled (dist/cli.js,
 * dist/extension.js → ../media) and transpiled for tests (out/src/engine/data → four levels up),
 * and FAST_ADVPROP_DATA_DIR lets a packaged install or a test point elsewhere. The env folder may
 * be the subset folder itself or the `datasets` folder that holds it.
 */
export function embeddedDatasetCandidates(env: NodeJS.ProcessEnv = process.env, here: string = __dirname): string[] {
  const out: string[] = [];
  const override = env.FAST_ADVPROP_DATA_DIR;
  if (override) out.push(override, path.join(override, EMBEDDED_DATASET));
  for (const up of ['..', '../../..', '../../../..']) out.push(path.join(here, up, 'media/datasets', EMBEDDED_DATASET));
  return out;
}

export function findEmbeddedDataset(env: NodeJS.ProcessEnv = process.env, here: string = __dirname): string {
  const candidates = embeddedDatasetCandidates(env, here);
  const found = candidates.find((d) => existsSync(path.join(d, MARKER)));
  if (!found) {
    throw new Error(
      `embedded dataset "${EMBEDDED_DATASET}" not found (looked in ${candidates.join(', ')}); ` +
        `set FAST_ADVPROP_DATA_DIR to the folder holding media/datasets/${EMBEDDED_DATASET}, or rebuild it with node scripts/make-default-dataset.mjs`,
    );
  }
  return found;
}
