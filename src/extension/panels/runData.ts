// Run-folder records as the panels need them.

import { parseRobustness, type RobustnessRecord } from '../../shared/robustness';
import type { CompareRunData } from '../../shared/protocol/resultsTable';
import type { Thumbnail } from '../../shared/protocol/robustness';
import type { RunSnapshot } from './types';

/**
 * The run model hands robustness.json over as parsed-but-unchecked JSON; run it through the
 * shared reader so a bad file shows its field-named error instead of NaN bars.
 */
export function readRobustness(raw: unknown): { record?: RobustnessRecord; thumbnails?: Thumbnail[]; error?: string } {
  if (raw === undefined || raw === null) return {};
  try {
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    const record = parseRobustness(text);
    const obj = typeof raw === 'string' ? JSON.parse(raw) : raw;
    return { record, thumbnails: readThumbnails((obj as { thumbnails?: unknown }).thumbnails) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}


const PNG = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;
const MAX_THUMBS = 200;
const MAX_THUMB_CHARS = 200_000;

/**
 * Optional thumbnail strip. Accepts `[{corruption, severity, src|dataUri|png}]` or
 * `{ <corruption>: [dataUri per severity] }`; only base64 PNG data URIs pass, as the CSP allows.
 */
export function readThumbnails(raw: unknown): Thumbnail[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const out: Thumbnail[] = [];
  const add = (corruption: unknown, severity: unknown, src: unknown) => {
    if (out.length >= MAX_THUMBS || typeof corruption !== 'string' || corruption.length > 64) return;
    if (typeof src !== 'string' || src.length > MAX_THUMB_CHARS) return;
    const uri = src.startsWith('data:') ? src : `data:image/png;base64,${src}`;
    if (!PNG.test(uri)) return;
    out.push({ corruption, severity: typeof severity === 'number' && Number.isFinite(severity) ? severity : 0, src: uri });
  };
  if (Array.isArray(raw)) {
    for (const t of raw) {
      if (t && typeof t === 'object') {
        const o = t as Record<string, unknown>;
        add(o.corruption ?? o.name ?? 'clean', o.severity, o.src ?? o.dataUri ?? o.png);
      }
    }
  } else if (typeof raw === 'object') {
    for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
      if (Array.isArray(v)) v.forEach((src, i) => add(name, i + 1, src));
      else add(name, 0, v);
    }
  }
  return out.length ? out : undefined;
}

export function compareData(snap: RunSnapshot): CompareRunData {
  return {
    runDir: snap.runDir,
    name: snap.name,
    config: snap.config?.config,
    costFactor: snap.config?.schedule?.costFactor,
    trainedEpochs: snap.config?.schedule?.epochs,
    results: snap.results,
    robustness: readRobustness(snap.robustness).record,
  };
}
