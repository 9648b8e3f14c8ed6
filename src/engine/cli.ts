#!/usr/bin/env node
// `fast-advprop` — the engine's command line (bundled to dist/cli.js). The VS Code extension
// spawns `train` and follows the run folder; people use the same commands in a terminal.

import { budgetCommand } from './budget/command';
import { benchCommand } from './cli/bench';
import { evaluateCommand, exportCommand } from './cli/evaluate';
import { gpuCheckCommand } from './cli/gpuCheck';
import { readEventsCommand } from './cli/readEvents';
import { trainCommand, type CliIo, type EngineDeps } from './cli/train';
import { engineVersion } from './cli/version';
import { studyCommand } from './study/command';
import { sweepCommand } from './cli/sweep';

export const COMMANDS: Record<string, string> = {
  train: 'train a model and write a run folder',
  budget: 'print the cost and same-budget schedule of a method',
  evaluate: 'evaluate a run: clean, corruption robustness, PGD',
  'export-model': 'write a run\'s weights as a tfjs model (model.json + weights.bin)',
  bench: 'measure backend throughput on this machine',
  'gpu-check': 'name the WebGPU adapter and check every training kernel on it against the cpu backend',
  study: 'train vanilla, same-budget AdvProp and Fast AdvProp at equal budget and compare them',
  'read-events': 'read TensorBoard event files as the extension does (another trainer\'s run) and time it',
  sweep: 'train a grid of configs (× seeds) locally or on Slurm; status, table, cancel',
};

export const USAGE = `usage: fast-advprop <command> [flags]

commands:
${Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(13)} ${v}`).join('\n')}

Run "fast-advprop <command> --help" for a command's flags.`;

const consoleIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export async function main(argv: readonly string[], io: CliIo = consoleIo, deps?: EngineDeps): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    if (cmd === undefined) {
      io.err(USAGE);
      return 2;
    }
    io.out(USAGE);
    return 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.out(engineVersion());
    return 0;
  }
  switch (cmd) {
    case 'train': {
      return trainCommand(rest, io, deps);
    }
    case 'budget': {
      // budgetCommand prints errors through the same callback; route them to stderr by exit code.
      const lines: string[] = [];
      const code = await budgetCommand([...rest], (s) => lines.push(s.replace(/\n$/, '')));
      for (const l of lines) code === 0 ? io.out(l) : io.err(`error: ${l}`);
      return code;
    }
    case 'evaluate': {
      return evaluateCommand(rest, io, deps);
    }
    case 'export-model': {
      return exportCommand(rest, io, deps);
    }
    case 'bench': {
      return benchCommand(rest, io);
    }
    case 'gpu-check': {
      return gpuCheckCommand(rest, io);
    }
    case 'read-events': {
      return readEventsCommand(rest, io);
    }
    case 'study': {
      // Not buffered like budget: the study streams one progress line per run as it trains.
      return studyCommand(rest, io.out, { log: io.err });
    }
    case 'sweep': {
      return sweepCommand(rest, io);
    }
    default:
      io.err(`error: unknown command "${cmd}"; use one of ${Object.keys(COMMANDS).join(', ')} (fast-advprop --help)`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
