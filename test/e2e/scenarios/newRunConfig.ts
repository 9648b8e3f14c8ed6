// Issue #14: "New Run Config" as a person uses it — palette, a name, the dataset kind, then VS
// Code's own folder dialog (code-server shows its simple dialog: a path box with a listing and an
// OK button). A folder of the wrong shape is refused with what was expected and "Pick Another";
// the image folder is accepted, and the config written from the picks trains.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJpegFolder } from '../../../src/engine/bench/jpegFolder';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import { engine, readJson } from './helpers';

const NAME = 'picked-folder';
const OPEN_LABEL = 'Use this dataset';

/** Types `dir` into the simple file dialog and presses its OK button. */
async function chooseFolder(d: Driver, dir: string): Promise<void> {
  await d.step(`file dialog: ${dir}`, async () => {
    const box = d.page.locator('.quick-input-widget .quick-input-box input');
    // The dialog opens at the workspace folder (defaultUri), its path in the box.
    await d.poll(async () => (await box.isVisible()) && (await box.inputValue()).startsWith('/'), 30_000, 'the folder dialog (a path in the quick input box)');
    await box.fill(dir.endsWith('/') ? dir : `${dir}/`);
    // The listing follows the typed path; wait until it shows the folder's own entries.
    await d.sleep(1500);
    await d.page.locator('.quick-input-widget .monaco-button', { hasText: OPEN_LABEL }).first().click({ timeout: 10_000 });
    return '';
  });
}

export const newRunConfigScenario: Scenario = {
  name: 'new-run-config-folder',
  description: 'Palette "New Run Config" -> name -> "Image folder, streamed" -> folder dialog: a wrong folder is refused ("Pick Another"), data/ is taken -> the written config trains one step',
  workspaceFiles: { ...tinyWorkspaceFiles(), 'notes/readme.txt': 'not a dataset\n' },
  timeoutMs: 180_000,
  async run(d) {
    const data = path.join(d.workspace, 'data');
    await d.step('write a small ImageFolder (2 classes × 40 JPEGs, val 2 × 4) into the workspace', async () => `${await writeJpegFolder(data, { classes: 2, perClass: 40, valPerClass: 4, seed: 14, size: [64, 48] })} files`);
    await d.command('Fast AdvProp: New Run Config');
    await d.step(`name the config "${NAME}"`, async () => {
      const box = d.page.locator('.quick-input-widget .quick-input-box input');
      await d.poll(async () => (await box.isVisible()) && (await box.inputValue()) === 'my-run', 15_000, 'the name box (prefilled "my-run")');
      await box.fill(NAME);
      await d.page.keyboard.press('Enter');
      return '';
    });
    await d.pick('Image folder, streamed (ImageNet-style)');
    const notes = path.join(d.workspace, 'notes');
    await chooseFolder(d, notes);
    await d.waitForText(`expects train/<class>/* with val/<class>/* or test/<class>/*`, { timeout: 15_000 });
    await d.waitForText(`found readme.txt in ${notes}`, { timeout: 5_000 });
    await d.screenshot('new-run-config-refused.png', { settleMs: 300 });
    await d.click('.notifications-toasts .monaco-button:has-text("Pick Another")');
    await chooseFolder(d, data);
    const file = path.join(d.workspace, `${NAME}.advprop.json`);
    await d.check(`${NAME}.advprop.json is written and opened`, () => d.poll(() => fs.existsSync(file) || undefined, 20_000, file).then(() => ''));
    // Opened in an editor: its tab carries the file name.
    await d.check('the new config is open in an editor tab', () => d.poll(async () => (await d.page.locator('.tabs-container .tab', { hasText: `${NAME}.advprop.json` }).count()) > 0 || undefined, 15_000, 'its editor tab').then(() => ''));
    await d.screenshot('new-run-config-written.png', { settleMs: 500 });
    const text = fs.readFileSync(file, 'utf8');
    // The path is written relative to the config's folder, so the workspace can move.
    await d.check('its dataset section is the pick: the streamed image folder at data/', () => {
      const line = text.split('\n').find((l) => l.trim().startsWith('"dataset"')) ?? '';
      const section = JSON.parse(line.trim().replace(/^"dataset":\s*/, '').replace(/,$/, '')) as Record<string, unknown>;
      if (section.name !== 'image-folder' || section.loader !== 'stream' || section.path !== 'data') throw new Error(`dataset section: ${line}`);
      return line.trim();
    });
    // The template trains at 224 px; the one edit made here (32 px, as a person would on a
    // laptop) keeps the step to seconds. Everything else is what the dialog wrote.
    const small = path.join(d.workspace, `${NAME}-32px.advprop.json`);
    fs.writeFileSync(small, text.replace(/"size":\s*224/, '"size": 32'));
    const runDir = path.join(d.workspace, 'cli-run');
    await d.step('the engine trains it: train --config … --max-steps 1', async () => {
      const out = await engine(['train', '--config', small, '--run-dir', runDir, '--max-steps', '1'], d.workspace, 120_000);
      const status = readJson<{ state: string }>(path.join(runDir, 'status.json'));
      const rec = readJson<{ dataset: { classNames: string[]; train: number; test: number } }>(path.join(runDir, 'config.json'));
      if (status.state !== 'completed' || rec.dataset.train !== 80 || rec.dataset.test !== 8 || rec.dataset.classNames.join() !== 'c000,c001') {
        throw new Error(`state ${status.state}, dataset ${JSON.stringify(rec.dataset)}: ${out.slice(-500)}`);
      }
      return out.split('\n').find((l) => l.startsWith('images:')) ?? '';
    });
  },
};
