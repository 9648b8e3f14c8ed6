// Entry point the VS Code extension host loads (extensionTestsPath). It must export run(),
// returning a Promise that settles when the suite is done; the launcher turns it into an exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

interface Failure { title: string; error: string }

function findTests(dir: string, out: string[] = []): string[] {
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

export function run(): Promise<void> {
  // Generous default: a test that trains waits for a real engine process. Per-test timeouts
  // can be tightened in the test files.
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 300000, reporter: 'spec' });
  const grep = process.env.FAST_ADVPROP_TEST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of findTests(__dirname)) mocha.addFile(f);
  const resultsFile = process.env.FAST_ADVPROP_TEST_RESULTS;
  const passed: string[] = [];
  const pending: string[] = [];
  const failures: Failure[] = [];

  return new Promise((resolve, reject) => {
    let runner: Mocha.Runner;
    try {
      runner = mocha.run((failed) => {
        if (resultsFile) {
          fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
          fs.writeFileSync(resultsFile, JSON.stringify({
            passed: passed.length, failed: failures.length, pending: pending.length,
            tests: { passed, pending }, failures, finishedAt: new Date().toISOString(),
          }, null, 2));
        }
        console.log(`integration: ${passed.length} passed, ${failures.length} failed, ${pending.length} pending`);
        if (failed > 0) reject(new Error(`${failed} integration test(s) failed`));
        else resolve();
      });
    } catch (e) {
      // A test file that throws while loading lands here; record it so the launcher can say why.
      if (resultsFile) {
        fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
        fs.writeFileSync(resultsFile, JSON.stringify({
          passed: 0, failed: 1, pending: 0, failures: [{ title: 'loading integration test files', error: String((e as Error).stack || e) }],
        }, null, 2));
      }
      reject(e);
      return;
    }
    runner.on('pass', (t) => passed.push(t.fullTitle()));
    runner.on('pending', (t) => pending.push(t.fullTitle()));
    runner.on('fail', (t, err: Error) => failures.push({ title: t.fullTitle(), error: String(err?.stack || err?.message || err) }));
  });
}
