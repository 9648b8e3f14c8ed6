#!/usr/bin/env node
// What `npm test` runs after build + typecheck: the three test stages in order, each one's counts,
// and a last line `test: N passed, M failed` summed over all stages. Exit code is non-zero when any
// test failed or a stage could not run (a stage that could not run counts as one failure, so the
// total never looks cleaner than the truth).
//
//   node scripts/test.mjs [unit] [vscode] [e2e]     (no names: all three)
//
//   FAST_ADVPROP_SKIP_VSCODE=1   skip the two VS Code stages (reported as NOT RUN, never as passed)
//
// The vscode stage runs the launcher twice and sums the counts: the integration suite in a trusted
// workspace, then (FAST_ADVPROP_UNTRUSTED=1) the untrusted-workspace suite with trust enabled.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLURM_APT_PACKAGES, ensureSystemDeps } from './ensure-system-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['unit', 'vscode', 'e2e'];
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const a of asked) if (!ALL.includes(a)) { console.error(`unknown stage "${a}"; stages: ${ALL.join(', ')}`); process.exit(2); }
const wanted = asked.length ? ALL.filter((s) => asked.includes(s)) : ALL;
const skipVscode = process.env.FAST_ADVPROP_SKIP_VSCODE === '1';

/** Runs a command, streaming its output, and returns { code, out } (out: stdout+stderr text). */
function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    p.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    p.on('error', (e) => resolve({ code: 127, out: out + String(e) }));
    p.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

const readJson = (f) => { try { return JSON.parse(readFileSync(f, 'utf8')); } catch { return undefined; } };
const lastMatch = (text, re) => { let m, last; const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g'); while ((m = g.exec(text))) last = m; return last; };
const banner = (s) => console.log(`\n${'='.repeat(78)}\n== ${s}\n${'='.repeat(78)}`);

async function unitStage() {
  const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
  if (!existsSync(mocha)) return { error: 'mocha is not installed (run npm ci)' };
  const { code, out } = await run(process.execPath, [mocha, '--config', 'test/.mocharc.json']);
  const passing = lastMatch(out, /^\s*(\d+) passing/m), failing = lastMatch(out, /^\s*(\d+) failing/m), pending = lastMatch(out, /^\s*(\d+) pending/m);
  if (!passing && !failing) return { error: `mocha exited ${code} without a result${/No test files found/.test(out) ? ' (no test files found: is out/ built?)' : ''}` };
  const r = { passed: Number(passing?.[1] ?? 0), failed: Number(failing?.[1] ?? 0), pending: Number(pending?.[1] ?? 0) };
  if (code !== 0 && r.failed === 0) return { ...r, error: `mocha exited ${code} although no test failed` };
  return r;
}

async function launcherStage(script, reportFile, tag, env = {}) {
  if (!existsSync(join(root, script))) return { error: `${script} is missing: run \`node scripts/build.mjs\` first` };
  const { code, out } = await run(process.execPath, [script], env);
  const report = readJson(reportFile);
  const line = lastMatch(out, new RegExp(`^${tag}: (\\d+) passed, (\\d+) failed`, 'm'));
  let r;
  if (report && typeof report.passed === 'number') r = { passed: report.passed, failed: report.failed, pending: report.pending ?? 0 };
  else if (line) r = { passed: Number(line[1]), failed: Number(line[2]) };
  if (!r || code === 2) return { ...(r && code !== 2 ? r : {}), error: `${script} could not run (exit ${code}); see its output above` };
  if (code !== 0 && r.failed === 0) return { ...r, error: `${script} exited ${code} although no test failed` };
  return r;
}

const resultsFile = join(root, 'test-artifacts', 'vscode', 'results.json');
const untrustedResultsFile = join(root, 'test-artifacts', 'vscode-untrusted', 'results.json');

/** Two launcher runs summed: the suite in a trusted workspace, then the untrusted-workspace suite. */
async function vscodeStage() {
  mkdirSync(dirname(resultsFile), { recursive: true });
  const trusted = await launcherStage('out/test/runner/runVscodeTests.js', resultsFile, 'vscode-integration',
    { FAST_ADVPROP_TEST_RESULTS: resultsFile, FAST_ADVPROP_UNTRUSTED: '' });
  banner('stage vscode, part 2: untrusted workspace (trust enabled, folder not trusted; FAST_ADVPROP_UNTRUSTED=1)');
  mkdirSync(dirname(untrustedResultsFile), { recursive: true });
  const untrusted = await launcherStage('out/test/runner/runVscodeTests.js', untrustedResultsFile, 'vscode-integration',
    { FAST_ADVPROP_TEST_RESULTS: untrustedResultsFile, FAST_ADVPROP_UNTRUSTED: '1' });
  const parts = [['trusted', trusted], ['untrusted', untrusted]];
  const sum = (k) => parts.reduce((n, [, r]) => n + (r[k] ?? 0), 0);
  // A part that could not run counts as one failure, as a whole stage would.
  const errors = parts.filter(([, r]) => r.error).map(([n, r]) => `${n}: ${r.error}`);
  // (failed is then >= 1 whenever error is set, so the summary adds nothing on top.)
  const r = { passed: sum('passed'), failed: sum('failed') + parts.filter(([, x]) => x.error && !x.failed).length, pending: sum('pending') };
  console.log(`vscode stage: trusted ${trusted.passed ?? 0} passed, ${trusted.failed ?? 0} failed${trusted.error ? ' (ERROR)' : ''}; `
    + `untrusted ${untrusted.passed ?? 0} passed, ${untrusted.failed ?? 0} failed${untrusted.error ? ' (ERROR)' : ''}`);
  return errors.length ? { ...r, error: errors.join('; ') } : r;
}

const stages = {
  unit: { title: 'unit tests (mocha, out/test/unit)', run: unitStage },
  vscode: {
    title: 'VS Code integration tests (extension host; trusted, then untrusted workspace)', vscode: true,
    run: vscodeStage,
  },
  e2e: {
    title: 'UI e2e scenarios (workbench in headless Chromium)', vscode: true,
    run: () => launcherStage('out/test/e2e/runE2e.js', join(root, 'test-artifacts', 'e2e', 'report.json'), 'e2e'),
  },
};

if (skipVscode) banner('FAST_ADVPROP_SKIP_VSCODE=1: SKIPPING the VS Code integration and e2e stages (they count as NOT RUN)');
const summary = [];
const t0 = Date.now();
let depsChecked = false;
let depsOk = true;
for (const name of wanted) {
  const st = stages[name];
  if (st.vscode && skipVscode) {
    summary.push({ name, notRun: true });
    continue;
  }
  if (st.vscode && !depsChecked) {
    depsChecked = true;
    depsOk = ensureSystemDeps();
  }
  // The unit stage's Slurm tests say themselves when Slurm is missing (and fail under CI=true).
  if (name === 'unit') ensureSystemDeps(console.log, [], SLURM_APT_PACKAGES, 'the Slurm sweep tests start a one-node cluster');
  if (st.vscode && !depsOk) {
    summary.push({ name, error: 'system packages for the VS Code tests are missing (see the apt-get line above)' });
    continue;
  }
  banner(`stage ${name}: ${st.title}`);
  const t = Date.now();
  let r;
  try { r = await st.run(); } catch (e) { r = { error: String(e?.stack || e) }; }
  summary.push({ name, ...r, seconds: ((Date.now() - t) / 1000).toFixed(1) });
}

banner('summary');
let passed = 0, failed = 0, broken = false;
for (const s of summary) {
  if (s.notRun) {
    console.log(`  ${s.name.padEnd(7)} NOT RUN   (FAST_ADVPROP_SKIP_VSCODE=1: not counted as passed)`);
    continue;
  }
  passed += s.passed ?? 0;
  failed += s.failed ?? 0;
  if (s.error) { broken = true; failed += s.failed ? 0 : 1; }
  const counts = s.passed !== undefined ? `${s.passed} passed, ${s.failed} failed${s.pending ? `, ${s.pending} pending` : ''}` : 'no results';
  console.log(`  ${s.name.padEnd(7)} ${(s.error ? 'ERROR' : s.failed ? 'FAIL' : 'ok').padEnd(6)} ${counts} (${s.seconds}s)${s.error ? `\n          ${s.error}` : ''}`);
}
if (summary.some((s) => s.notRun)) {
  console.log('\n  !!! VS Code stages SKIPPED (FAST_ADVPROP_SKIP_VSCODE=1): the extension was NOT tested in VS Code. !!!');
}
console.log(`  artifacts: ${relative(process.cwd(), join(root, 'test-artifacts'))}/ (vscode/, e2e/); total ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
console.log(`test: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || broken ? 1 : 0);
