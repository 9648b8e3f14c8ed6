import { BudgetInputError, calibrate, METHODS, parseSplit, splitFromPAdv, type Calibration, type Method, type Split } from './costModel';

// `fast-advprop budget`: prints what a method costs per epoch and the same-budget schedule
// (epochs and LR milestones divided by the cost factor, rounded like the reference).

export const BUDGET_USAGE =
  'usage: fast-advprop budget --method vanilla|advprop|fast-advprop [--split C:A | --p-adv P] [--k K] --epochs E [--milestones a,b,c] [--json]';

const METHOD_ALIASES: Record<string, Method> = {
  vanilla: 'vanilla',
  advprop: 'advprop',
  'fast-advprop': 'fast-advprop',
  fast_advprop: 'fast-advprop',
  fastadvprop: 'fast-advprop',
};

class FlagError extends Error {}

function parseIntFlag(flag: string, v: string, min: number, example: string): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new FlagError(`${flag}: expected a whole number ≥ ${min}, got ${JSON.stringify(v)}; e.g. ${flag} ${example}`);
  return Number(v);
}

interface Parsed {
  method?: Method;
  split?: Split;
  pAdv?: number;
  k: number;
  epochs?: number;
  milestones: number[];
  json: boolean;
  help: boolean;
}

function parseArgs(args: string[]): Parsed {
  const out: Parsed = { k: 1, milestones: [], json: false, help: false };
  const takesValue = new Set(['--method', '--split', '--p-adv', '--k', '--epochs', '--milestones']);
  for (let i = 0; i < args.length; i++) {
    let flag = args[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === '--json' || flag === '--help' || flag === '-h') {
      if (value !== undefined) throw new FlagError(`${flag}: takes no value; write just ${flag}`);
      if (flag === '--json') out.json = true;
      else out.help = true;
      continue;
    }
    if (!takesValue.has(flag)) {
      throw new FlagError(`${flag}: unknown flag; allowed: ${[...takesValue].join(', ')}, --json (${BUDGET_USAGE})`);
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined || (value.startsWith('--') && flag !== '--p-adv')) throw new FlagError(`${flag}: missing value; e.g. ${example(flag)}`);
    }
    switch (flag) {
      case '--method': {
        const m = METHOD_ALIASES[value.toLowerCase()];
        if (!m) throw new FlagError(`--method: unknown method ${JSON.stringify(value)}; use one of ${METHODS.join(', ')}`);
        out.method = m;
        break;
      }
      case '--split':
        try {
          out.split = parseSplit(value);
        } catch (e) {
          throw new FlagError(`--split: ${(e as Error).message.replace(/^split: /, '')}`);
        }
        break;
      case '--p-adv': {
        const p = /^\s*[0-9]*\.?[0-9]+\s*$/.test(value) ? Number(value) : NaN;
        try {
          splitFromPAdv(p);
        } catch {
          throw new FlagError(`--p-adv: expected a number with 0 ≤ p < 1 (attacked fraction of the batch), got ${JSON.stringify(value)}; e.g. --p-adv 0.2`);
        }
        out.pAdv = p;
        break;
      }
      case '--k':
        out.k = parseIntFlag('--k', value, 1, '1');
        break;
      case '--epochs':
        out.epochs = parseIntFlag('--epochs', value, 1, '105');
        break;
      case '--milestones': {
        const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (parts.length === 0 || parts.some((s) => !/^\d+$/.test(s))) {
          throw new FlagError(`--milestones: expected comma-separated whole epochs, got ${JSON.stringify(value)}; e.g. --milestones 30,60,90`);
        }
        out.milestones = parts.map(Number);
        break;
      }
    }
  }
  if (out.split && out.pAdv !== undefined) throw new FlagError('--p-adv: give either --split or --p-adv, not both; drop one');
  return out;
}

function example(flag: string): string {
  return ({ '--method': '--method fast-advprop', '--split': '--split 4:1', '--p-adv': '--p-adv 0.2', '--k': '--k 1', '--epochs': '--epochs 105', '--milestones': '--milestones 30,60,90' } as Record<string, string>)[flag] ?? flag;
}

export function formatCalibration(c: Calibration): string {
  const rows: [string, string][] = [
    ['method', c.method],
    ['split', `${c.split} (p_adv ${c.pAdv})`],
    ['K', String(c.k)],
    ['cost factor', `${c.costFactor} × vanilla`],
    ['per epoch', `clean ${c.perEpochCost.clean} + attack ${c.perEpochCost.attack} + adv ${c.perEpochCost.adv} (units of N images)`],
    ['epochs', `${c.baseEpochs} → ${c.epochs} (same budget)`],
  ];
  if (c.baseMilestones.length) rows.push(['milestones', `${c.baseMilestones.join(',')} → ${c.milestones.join(',')}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** Runs `fast-advprop budget …`; returns the process exit code (0 ok, 2 bad usage). */
export async function budgetCommand(args: string[], out: (s: string) => void): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    if (e instanceof FlagError) {
      out(e.message);
      return 2;
    }
    throw e;
  }
  if (parsed.help) {
    out(BUDGET_USAGE);
    return 0;
  }
  if (!parsed.method) {
    out(`--method: required; add --method fast-advprop (or vanilla, advprop)`);
    return 2;
  }
  if (parsed.epochs === undefined) {
    out('--epochs: required; add the vanilla schedule length, e.g. --epochs 105');
    return 2;
  }
  let c: Calibration;
  try {
    c = calibrate({
      method: parsed.method, split: parsed.split, pAdv: parsed.pAdv, k: parsed.k,
      epochs: parsed.epochs, milestones: parsed.milestones, sameBudget: true,
    });
  } catch (e) {
    if (e instanceof BudgetInputError) {
      out(`--${e.field === 'pAdv' ? 'p-adv' : e.field}: ${e.message.replace(/^[a-z_A-Z]+: /, '')}`);
      return 2;
    }
    throw e;
  }
  if (parsed.json) {
    out(JSON.stringify({
      method: c.method, split: c.split, pAdv: c.pAdv, k: c.k, costFactor: c.costFactor,
      epochs: c.epochs, milestones: c.milestones, perEpochCost: c.perEpochCost,
      baseEpochs: c.baseEpochs, baseMilestones: c.baseMilestones,
    }));
  } else {
    out(formatCalibration(c));
  }
  return 0;
}
