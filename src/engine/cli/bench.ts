import { runBench } from '../bench';
import { formatFlags, parseFlags, type FlagSpec } from './args';
import type { CliIo } from './train';

export const BENCH_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'bool', help: 'print the report as JSON' },
  quick: { type: 'bool', help: 'fewer timed steps (noisier figures), for smoke tests' },
  help: { type: 'bool', help: 'show this help' },
};

export const BENCH_USAGE = `usage: fast-advprop bench [--json] [--quick]

Measures training throughput of each available backend and worker count on this machine.

${formatFlags(BENCH_FLAGS)}`;

export async function benchCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  try {
    ({ flags } = parseFlags('bench', argv, BENCH_FLAGS));
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    io.out(BENCH_USAGE);
    return 0;
  }
  await runBench({ json: Boolean(flags.json), quick: Boolean(flags.quick) }, (s) => io.out(s.replace(/\n$/, '')));
  return 0;
}
