// Text of the status-bar item; pure so the wording can be tested without a window.
import type { RunSnapshot } from './runSnapshot';
import { displayEpoch, latestAccuracy } from './runSummary';

export function formatEta(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
  warning: boolean;
}

/** Generated names are long ("fast-advprop-20261207-015812"); the tooltip has the whole name. */
function shortName(name: string): string {
  return name.length > 32 ? `${name.slice(0, 31)}…` : name;
}

/**
 * `$(sync~spin) my-run · epoch 2/6 · 13% · test acc 83.1% · ETA 3m` for the run in focus, with
 * how many other runs are live or queued; an idle text when nothing runs. Every number says what
 * it is: an unlabelled accuracy was read as progress.
 */
export function statusBarView(focus: RunSnapshot | undefined, otherLive: number, queued: number): StatusBarView {
  if (!focus) {
    return {
      text: queued > 0 ? `$(clock) Fast AdvProp: ${queued} queued` : '$(beaker) Fast AdvProp',
      tooltip: queued > 0 ? `${queued} run(s) waiting for a free slot. Click to open the dashboard.` : 'Fast AdvProp: no run is training. Click to open the dashboard.',
      warning: false,
    };
  }
  const p = focus.status?.progress;
  const parts: string[] = [shortName(focus.name)];
  const tip: string[] = [`Fast AdvProp run ${focus.name}`];
  if (p && p.totalSteps > 0) {
    const epoch = `${displayEpoch(p.epoch, p.epochs)}/${p.epochs}`;
    const done = `${Math.floor((Math.min(1, Math.max(0, p.step / p.totalSteps))) * 100)}%`;
    parts.push(`epoch ${epoch}`, done);
    tip.push(`Epoch ${epoch}, step ${p.step} of ${p.totalSteps} (${done} of the training done)`);
  } else {
    parts.push('starting');
  }
  const acc = latestAccuracy(focus.metrics);
  if (acc) {
    parts.push(`${acc.short} ${(acc.value * 100).toFixed(1)}%`);
    tip.push(`${acc.short}: ${(acc.value * 100).toFixed(1)}% ${acc.what}`);
  }
  const eta = formatEta(p?.etaSeconds);
  if (eta) {
    parts.push(`ETA ${eta}`);
    tip.push(`ETA ${eta}: estimated time left`);
  }
  if (p?.imagesPerSecond) tip.push(`${p.imagesPerSecond.toFixed(0)} images/s`);
  const leak = focus.status?.leak?.flagged === true;
  if (leak) {
    parts.push('⚠ leak');
    tip.push(`Label-leak alarm: ${focus.status?.leak?.message ?? 'adversarial accuracy exceeds clean accuracy'}`);
  }
  if (otherLive > 0) {
    parts.push(`+${otherLive} more`);
    tip.push(`${otherLive} more run(s) training`);
  }
  if (queued > 0) {
    parts.push(`${queued} queued`);
    tip.push(`${queued} run(s) waiting for a free slot`);
  }
  tip.push('Click to open the dashboard.');
  return { text: `$(sync~spin) ${parts.join(' · ')}`, tooltip: tip.join('\n'), warning: leak };
}
