// Runs the UI scenarios (test/e2e/scenarios.ts) against the extension at the repository root,
// each in a fresh code-server session driven by headless Chromium.
//
//   node out/test/e2e/runE2e.js [--scenario NAME ...] [--list]
//
// Artifacts: test-artifacts/e2e/ (screenshots, report.json; <scenario>/ holds that session's
// code-server, browser-console and VS Code logs). Last line: `e2e: N passed, M failed`.
// Environment: FAST_ADVPROP_E2E_SCENARIOS=a,b (same as --scenario), CHROMIUM_PATH, and for checking
// the driver itself FAST_ADVPROP_EXTENSION_PATH / FAST_ADVPROP_E2E_SCENARIOS_MODULE (a module
// exporting `scenarios`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, SetupError, makeLogger, secs, startSession, type Session } from '../runner/codeServer';
import { Driver, type StepRecord } from './driver';
import type { Scenario } from './scenarios';

const log = makeLogger('e2e');
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'e2e');
const DEFAULT_SCENARIO_TIMEOUT_MS = 6 * 60 * 1000;

interface ScenarioReport { name: string; ok: boolean; seconds: number; error?: string; steps: StepRecord[] }

function loadScenarios(): Scenario[] {
  const alt = process.env.FAST_ADVPROP_E2E_SCENARIOS_MODULE;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (alt ? require(path.resolve(alt)) : require('./scenarios')).scenarios as Scenario[];
}

async function runScenario(s: Scenario): Promise<ScenarioReport> {
  const t = Date.now();
  const steps: StepRecord[] = [];
  let session: Session | undefined;
  console.log(`\n  scenario ${s.name}: ${s.description}`);
  try {
    session = await startSession({
      artifactsDir: path.join(ARTIFACTS, s.name),
      workspaceFiles: s.workspaceFiles,
      settings: s.settings,
      untrusted: s.untrusted,
      env: { FAST_ADVPROP_TEST: '1', ...(s.env || {}) },
      extensionDevelopmentPath: process.env.FAST_ADVPROP_EXTENSION_PATH ? path.resolve(process.env.FAST_ADVPROP_EXTENSION_PATH) : undefined,
    });
    const d = new Driver(session.page, session.workspace, ARTIFACTS, s.name);
    const limit = s.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        s.run(d),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`scenario timed out after ${limit / 1000}s`)), limit); }),
      ]);
    } finally {
      clearTimeout(timer);
      steps.push(...d.steps);
    }
    console.log(`  PASS ${s.name} (${secs(t)}s)`);
    return { name: s.name, ok: true, seconds: Number(secs(t)), steps };
  } catch (e) {
    // Missing Chromium / code-server install failure: no scenario can run; the stage could not run.
    if (e instanceof SetupError) throw e;
    const error = String((e as Error).stack || e);
    if (session && !steps.some((x) => !x.ok)) {
      // Failed outside a step (timeout, setup): still leave a picture of the workbench.
      await session.page.screenshot({ path: path.join(ARTIFACTS, `FAIL-${s.name}.png`) }).catch(() => undefined);
    }
    console.log(`  FAIL ${s.name} (${secs(t)}s): ${error.split('\n')[0]}`);
    return { name: s.name, ok: false, seconds: Number(secs(t)), error, steps };
  } finally {
    await session?.close();
  }
}

async function main(): Promise<number> {
  const all = loadScenarios();
  if (process.argv.includes('--list')) {
    for (const s of all) console.log(`${s.name}\t${s.manual ? '(only when named) ' : ''}${s.description}`);
    return 0;
  }
  const wanted = [
    ...process.argv.flatMap((a, i) => (process.argv[i - 1] === '--scenario' ? [a] : [])),
    ...(process.env.FAST_ADVPROP_E2E_SCENARIOS || '').split(',').map((x) => x.trim()).filter(Boolean),
  ];
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length) throw new SetupError(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  const chosen = wanted.length ? all.filter((s) => wanted.includes(s.name)) : all.filter((s) => !s.manual);

  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const extPath = path.resolve(process.env.FAST_ADVPROP_EXTENSION_PATH || REPO_ROOT);
  const main = JSON.parse(fs.readFileSync(path.join(extPath, 'package.json'), 'utf8')).main as string | undefined;
  if (main && !fs.existsSync(path.resolve(extPath, main))) log(`warning: ${main} is missing (run \`npm run build\`); the extension cannot activate`);

  const reports: ScenarioReport[] = [];
  for (const s of chosen) reports.push(await runScenario(s));
  const passed = reports.filter((r) => r.ok).length, failed = reports.length - passed;
  fs.writeFileSync(path.join(ARTIFACTS, 'report.json'), JSON.stringify({ passed, failed, scenarios: reports, seconds: Number(secs()) }, null, 2));
  log(`artifacts in ${path.relative(REPO_ROOT, ARTIFACTS)}/`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  if (e instanceof SetupError) console.error(`\nERROR: ${e.message}\n`);
  else console.error(`\nERROR: ${(e as Error).stack || e}\n`);
  console.log('e2e: 0 passed, 1 failed (could not run)');
  process.exit(2);
});
