// Which cells Evaluate Robustness measures. The command used to run all 76 (clean + 15 × 5), minutes
// of work with Cancel as the only control, though the CLI takes --corruptions / --severities /
// --pgd. The choice is remembered per workspace: a researcher iterating on one question wants the
// same subset next time.
import * as vscode from 'vscode';
import { CORRUPTIONS } from '../../shared/robustness';
import type { EvaluateOptions } from '../services';

export const LAST_SUBSET_KEY = 'fastAdvprop.evaluateSubset';
const SEVERITIES = [1, 2, 3, 4, 5];

/** One corruption per family (noise, blur, weather, digital), as the quick check. */
export const QUICK_CORRUPTIONS = ['gaussian_noise', 'defocus_blur', 'fog', 'contrast'];
export const DEFAULT_PGD = '10,8';

export interface SubsetChoice {
  id: 'all' | 'quick' | 'clean-pgd' | 'custom';
  opts: EvaluateOptions;
}

interface SubsetItem extends vscode.QuickPickItem {
  id: SubsetChoice['id'];
}

function cells(c: number, s: number): number {
  return 1 + c * s;
}

export function presetOptions(id: Exclude<SubsetChoice['id'], 'custom'>): EvaluateOptions {
  switch (id) {
    case 'all': return {};
    case 'quick': return { corruptions: [...QUICK_CORRUPTIONS], severities: [3] };
    case 'clean-pgd': return { corruptions: ['none'], pgd: DEFAULT_PGD };
  }
}

const label = (c: string) => c.replace(/_/g, ' ');

function customDescription(o: EvaluateOptions | undefined): string {
  if (!o?.corruptions?.length) return 'choose corruptions and severities';
  const sev = o.severities?.length ? o.severities : SEVERITIES;
  return `last: ${o.corruptions.map(label).join(', ')} × severity ${sev.join(', ')} (${cells(o.corruptions.length, sev.length)} cells)`;
}

async function pickCustom(last: EvaluateOptions | undefined): Promise<EvaluateOptions | undefined> {
  const prevC = new Set(last?.corruptions ?? QUICK_CORRUPTIONS);
  const cs = await vscode.window.showQuickPick(
    CORRUPTIONS.map((c) => ({ label: label(c), id: c as string, picked: prevC.has(c) })),
    { canPickMany: true, title: 'Evaluate Robustness: corruptions (1/2)', placeHolder: 'Corruptions to evaluate (none: clean accuracy only)' },
  );
  if (!cs) return undefined;
  const prevS = new Set(last?.severities ?? [3]);
  const ss = cs.length === 0 ? [] : await vscode.window.showQuickPick(
    SEVERITIES.map((s) => ({ label: `severity ${s}`, severity: s, picked: prevS.has(s) })),
    { canPickMany: true, title: 'Evaluate Robustness: severities (2/2)', placeHolder: 'Severities of each corruption' },
  );
  if (!ss) return undefined;
  if (cs.length === 0) return { corruptions: ['none'] };
  return { corruptions: cs.map((c) => c.id), severities: ss.length ? ss.map((s) => s.severity) : [3] };
}

/** Asks which subset to evaluate, the last choice first; undefined when dismissed. */
export async function pickEvaluationSubset(memento: vscode.Memento, runName: string): Promise<EvaluateOptions | undefined> {
  const last = memento.get<SubsetChoice>(LAST_SUBSET_KEY);
  const items: SubsetItem[] = [
    { id: 'all', label: `All ${CORRUPTIONS.length} corruptions × ${SEVERITIES.length} severities`, description: `${cells(CORRUPTIONS.length, SEVERITIES.length)} cells with clean, slow; mCE needs all of them` },
    { id: 'quick', label: `Quick: ${QUICK_CORRUPTIONS.length} corruptions × severity 3`, description: `${cells(QUICK_CORRUPTIONS.length, 1)} cells: ${QUICK_CORRUPTIONS.map(label).join(', ')}` },
    { id: 'clean-pgd', label: 'Clean + PGD only', description: `clean accuracy and PGD-10 at ε 8/255, no corruptions` },
    { id: 'custom', label: 'Custom…', description: customDescription(last?.id === 'custom' ? last.opts : undefined) },
  ];
  const lastIndex = items.findIndex((i) => i.id === last?.id);
  if (lastIndex > 0) items.unshift(...items.splice(lastIndex, 1));
  if (lastIndex >= 0) items[0].detail = 'last used';
  const picked = await vscode.window.showQuickPick(items, { title: `Evaluate Robustness of ${runName}`, placeHolder: 'Which corruption cells to measure' });
  if (!picked) return undefined;
  const opts = picked.id === 'custom' ? await pickCustom(last?.id === 'custom' ? last.opts : undefined) : presetOptions(picked.id);
  if (!opts) return undefined;
  await memento.update(LAST_SUBSET_KEY, { id: picked.id, opts } satisfies SubsetChoice);
  return opts;
}
