import type { CliIo, EngineDeps } from './train';

export async function evaluateCommand(_argv: readonly string[], io: CliIo, _deps?: EngineDeps): Promise<number> {
  io.err('error: evaluate: not wired yet');
  return 2;
}

export async function exportCommand(_argv: readonly string[], io: CliIo, _deps?: EngineDeps): Promise<number> {
  io.err('error: export-model: not wired yet');
  return 2;
}
