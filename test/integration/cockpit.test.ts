// Issue #16 inside a real VS Code: what a user sees for a bad run config. Start Training's error
// names every problem with its field, and the editor's Problems come from the schema's wording,
// not a raw regex.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const BAD = { method: 'fast-advprop', split: '4-1', epochs: -3, model: { arch: 'resnet8', width: 4 }, dataset: { name: 'fashion-mnist-subset', trainLimit: 200, testLimit: 100 } };

suite('Fast AdvProp cockpit: bad config feedback', () => {
  let ws = '';
  let runsFolder = '';
  const file = () => path.join(ws, 'cockpit-bad.advprop.json');

  suiteSetup(async () => {
    const services = await vscode.extensions.getExtension<{ runs: { runsFolder: string } }>(EXTENSION_ID)!.activate();
    runsFolder = services.runs.runsFolder;
    ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    fs.writeFileSync(file(), JSON.stringify(BAD, null, 2) + '\n');
  });

  test('Start Training lists every problem with its field, and creates nothing', async () => {
    const before = fs.existsSync(runsFolder) ? fs.readdirSync(runsFolder) : [];
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('fastAdvprop.startTraining', { configPath: file(), runName: 'cockpit-bad' })),
      (e: Error) => {
        // The rejection carries the text the error notification shows.
        assert.match(e.message, /^Fast AdvProp: 2 problems in run config cockpit-bad\.advprop\.json: /);
        assert.match(e.message, /\(1\) "split" must look like "4:1"/);
        assert.match(e.message, /\(2\) "epochs" must be ≥ 1, got -3/);
        return true;
      },
    );
    assert.deepEqual(fs.existsSync(runsFolder) ? fs.readdirSync(runsFolder) : [], before);
  });

  test('the editor reports a bad split in words, not as a regex', async function () {
    this.timeout(60_000);
    const uri = vscode.Uri.file(file());
    await vscode.window.showTextDocument(uri);
    let messages: string[] = [];
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      messages = vscode.languages.getDiagnostics(uri).map((d) => d.message);
      if (messages.some((m) => /split/.test(m))) break;
      await sleep(250);
    }
    const split = messages.find((m) => /split/.test(m));
    assert.ok(split, `no diagnostic about split; diagnostics: ${JSON.stringify(messages)}`);
    assert.match(split, /two whole numbers like "4:1"/);
    assert.ok(!messages.some((m) => m.includes('\\d')), `a raw pattern is still shown: ${JSON.stringify(messages)}`);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
