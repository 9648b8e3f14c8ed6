// Flag parsing for the CLI subcommands and for study (which passes flags through to train): errors
// name the flag and say how to fix it, and exit 2 like config errors, so scripts can tell "you asked
// for something impossible" from "it failed". Below cli/ and study/, which both parse flags.

export type FlagType = 'string' | 'int' | 'number' | 'bool';

export interface FlagSpec {
  type: FlagType;
  help: string;
  metavar?: string;
}

export class UsageError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'UsageError';
  }
}

export type FlagValues = Record<string, string | number | boolean>;

export function parseFlags(command: string, argv: readonly string[], spec: Record<string, FlagSpec>): { flags: FlagValues; positional: string[] } {
  const flags: FlagValues = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg !== '-' && arg !== '--') {
        throw new UsageError(arg, `unknown option for "${command}"; flags are spelled --name (see fast-advprop ${command} --help)`);
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const s = spec[name];
    if (!s) {
      const close = Object.keys(spec).find((k) => k.startsWith(name) || name.startsWith(k));
      throw new UsageError(`--${name}`, `unknown flag for "${command}"${close ? ` (did you mean --${close}?)` : ''}; see fast-advprop ${command} --help`);
    }
    if (s.type === 'bool') {
      if (eq >= 0) {
        const v = arg.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UsageError(`--${name}`, `takes no value or =true/=false, got ${JSON.stringify(v)}`);
        flags[name] = v === 'true';
      } else {
        flags[name] = true;
      }
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        throw new UsageError(`--${name}`, `needs a value (${s.metavar ?? s.type}); e.g. --${name} ${example(s)}`);
      }
      i++;
    }
    flags[name] = convert(name, value, s);
  }
  return { flags, positional };
}

function example(s: FlagSpec): string {
  return s.type === 'int' ? '10' : s.type === 'number' ? '0.2' : (s.metavar ?? 'VALUE');
}

function convert(name: string, value: string, s: FlagSpec): string | number {
  if (s.type === 'string') {
    if (value === '') throw new UsageError(`--${name}`, 'needs a non-empty value');
    return value;
  }
  if (s.type === 'int') {
    if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name}`, `expected a whole number, got ${JSON.stringify(value)}; e.g. --${name} 10`);
    return Number(value);
  }
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}`, `expected a number, got ${JSON.stringify(value)}; e.g. --${name} 0.2`);
  return n;
}

export function formatFlags(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([k, s]) => [`--${k}${s.type === 'bool' ? '' : ` ${s.metavar ?? s.type.toUpperCase()}`}`, s.help]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`).join('\n');
}
