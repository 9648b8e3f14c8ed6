// Window reload during a run (issue #7): the engine is a separate process in its own group, so a
// reload must neither kill it nor lose it. After the reload the extension re-attaches by the pid
// in status.json, the dashboard comes back (its serializer) and keeps growing, and Stop Training
// from the palette still reaches the process. Each check reads the disk or the panel, so a run
// that died with the window, a dashboard that froze, or a Stop that went nowhere fails the scenario.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tinyWorkspaceFiles } from '../../runner/workspace';
import type { Driver } from '../driver';
import type { Scenario } from '../scenarios';
import { ensureDashboard, readJson, runFolders, runState, textOf, tinyConfigText } from './helpers';

const RELOAD_CONFIG_FILE = 'reload.advprop.json';
// 2500 steps (25 calibrated epochs of 100): 70-100 s alone on 2 cores (the engine logs 700-870
// img/s idle), so the run outlives the reload by far; Stop ends it about 15 s in.
const RELOAD_CONFIG = { epochs: 30, maxSteps: 3000, logEvery: 1, dataset: { name: 'fashion-mnist-subset', trainLimit: 2000, testLimit: 100 } };

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** What the dashboard shows now: its state word and "step S/T" (undefined when no dashboard is open). */
async function readDashboard(d: Driver): Promise<{ state: string; step: number; total: number } | undefined> {
  const f = await d.findWebviewFrame({ selector: '#state' });
  if (!f) return undefined;
  const state = (await textOf(f, '#state')).toLowerCase();
  const m = /· step (\d+)\/(\d+)/.exec(await textOf(f, 'body'));
  return { state, step: m ? Number(m[1]) : -1, total: m ? Number(m[2]) : -1 };
}

export const reloadScenario: Scenario = {
  name: 'reload-reattach',
  description: 'Start Training -> running at step >= 2 -> Developer: Reload Window -> engine pid still alive, dashboard restored and still counting -> Stop Training -> status.json stopped, pid gone, dashboard "stopped"',
  workspaceFiles: { ...tinyWorkspaceFiles(), [RELOAD_CONFIG_FILE]: tinyConfigText(RELOAD_CONFIG) },
  timeoutMs: 4 * 60 * 1000,
  async run(d) {
    await d.command('Fast AdvProp: Start Training');
    await d.pick(RELOAD_CONFIG_FILE);
    const runDir = await d.step('a run folder appears in .advprop-runs', () => d.poll(() => runFolders(d.workspace)[0], 60_000, 'a run folder'));
    const name = path.basename(runDir);
    const statusText = () => { try { return fs.readFileSync(path.join(runDir, 'status.json'), 'utf8').slice(0, 800); } catch { return '(no status.json)'; } };
    // Any final state before our Stop means the run did not survive something: end the wait at once.
    const failIfEnded = (): void => {
      const s = runState(runDir);
      if (s === 'failed' || s === 'stopped' || s === 'completed') throw Object.assign(new Error(`run ${name} ended as "${s}" before Stop: ${statusText()}`), { fatal: true });
    };
    await d.step('dashboard webview is open', () => ensureDashboard(d));
    const before = await d.step('the dashboard shows "running" at step >= 2', () => d.poll(async () => {
      failIfEnded();
      const v = await readDashboard(d);
      return v && v.state === 'running' && v.step >= 2 ? v : undefined;
    }, 120_000, 'dashboard state "running" and step >= 2', 250).then((v) => `${v.state}, step ${v.step}/${v.total}`));
    const pid = await d.check('status.json records the engine pid, and that process is alive', () => {
      const st = readJson<{ state: string; pid: number | null }>(path.join(runDir, 'status.json'));
      if (typeof st.pid !== 'number' || !pidAlive(st.pid)) throw new Error(`pid ${st.pid} is not a live process (state ${st.state})`);
      // Guard against a recycled pid: the process is this run's engine.
      const cmd = fs.readFileSync(`/proc/${st.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!cmd.includes(runDir)) throw new Error(`pid ${st.pid} is not this run's engine: ${cmd}`);
      return String(st.pid);
    }).then(Number);
    // The engine's parent is the extension host that spawned it; it must go with the reload, or
    // nothing here would be re-attached (the old host would still hold the child).
    const host = await d.check('the engine was spawned by the window\'s extension host', () => {
      const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
      const cmd = fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!/extensionHost/i.test(cmd)) throw new Error(`the engine's parent ${ppid} is not an extension host: ${cmd.slice(0, 300)}`);
      return String(ppid);
    }).then(Number);
    await d.screenshot('reload-before.png', { settleMs: 0 });

    await d.reload();

    await d.check(`the old extension host (pid ${host}) has exited`, () => d.poll(() => !pidAlive(host), 15_000, `extension host ${host} to exit with the old window`)
      .then(() => '').catch((e: Error) => { throw new Error(`${e.message}: it still holds the engine, so the reload re-attached nothing`); }));
    await d.check(`after the reload the engine (pid ${pid}) is still alive and status.json still says running with that pid`, () => {
      if (!pidAlive(pid)) throw new Error(`pid ${pid} is gone; status.json: ${statusText()}`);
      const st = readJson<{ state: string; pid: number | null }>(path.join(runDir, 'status.json'));
      if (st.state !== 'running' || st.pid !== pid) throw new Error(`status.json: ${statusText()}`);
      return `${before} before the reload`;
    });
    const how = await d.step('the dashboard is back (restored by its serializer, or reopened)', async () => {
      const restored = await d.poll(() => d.findWebviewFrame({ selector: '#state' }), 20_000, 'a restored dashboard', 500).catch(() => undefined);
      if (restored) return 'restored by its serializer after the reload';
      await ensureDashboard(d, 0);
      await d.poll(() => d.findWebviewFrame({ selector: '#state' }), 20_000, 'the reopened dashboard', 500);
      return 'NOT restored by itself; reopened with "Fast AdvProp: Open Dashboard"';
    });
    const beforeStep = Number(/step (\d+)/.exec(before)![1]);
    const first = await d.step('first observation after the reload: running, at a step not below the one before', () => d.poll(async () => {
      failIfEnded();
      const v = await readDashboard(d);
      return v && v.state === 'running' && v.step >= beforeStep ? v : undefined;
    }, 30_000, `dashboard "running" at step >= ${beforeStep}`, 250).then((v) => v));
    await d.screenshot('reload-after.png', { settleMs: 0 });
    const second = await d.step(`second observation: the step rises above ${first.step} (the dashboard is live)`, () => d.poll(async () => {
      failIfEnded();
      const v = await readDashboard(d);
      return v && v.state === 'running' && v.step > first.step ? v : undefined;
    }, 30_000, `a step above ${first.step}`, 250));
    await d.check(`dashboard ${how}; step ${beforeStep} before, ${first.step} -> ${second.step} after`, () => `${first.step} -> ${second.step}/${second.total}`);

    // Stop always asks which run (even for one); a palette click lost to a re-render shows no
    // picker at all, and nothing was stopped then, so the command is run once more.
    await d.step('Stop Training from the palette opens the run picker', async () => {
      for (let attempt = 1; ; attempt++) {
        await d.command('Fast AdvProp: Stop Training');
        const labels = await d.poll(async () => { const l = await d.visibleQuickPickLabels(); return l.length ? l : undefined; }, 5000, 'the run picker')
          .catch((e: Error) => { if (attempt >= 2) throw e; return undefined; });
        if (labels) return attempt > 1 ? `picker opened on attempt ${attempt}: ${labels.join(', ')}` : labels.join(', ');
      }
    });
    await d.pick(name, { filter: false });
    // 20 s: the engine stops politely in about 2 s; the extension's kill fallback fires only at 30 s.
    await d.check(`status.json says stopped and pid ${pid} is gone`, () => d.poll(() => {
      const s = runState(runDir);
      if (s === 'failed' || s === 'completed') throw Object.assign(new Error(`run ended as "${s}", not stopped: ${statusText()}`), { fatal: true });
      return s === 'stopped' && !pidAlive(pid) ? 'stopped' : undefined;
    }, 20_000, `state "stopped" and pid ${pid} gone`, 250).catch((e: Error) => {
      throw new Error(`${e.message}; Stop did not end the run: pid alive ${pidAlive(pid)}, status.json ${statusText()}`);
    }));
    await d.step('the dashboard shows "stopped"', () => d.poll(async () => {
      const v = await readDashboard(d);
      return v && v.state === 'stopped' ? `stopped at step ${v.step}/${v.total}` : undefined;
    }, 20_000, 'dashboard state "stopped"', 250).catch(async (e: Error) => { throw new Error(`${e.message}; dashboard: ${JSON.stringify(await readDashboard(d))}`); }));
  },
};
