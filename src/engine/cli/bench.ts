import type { CliIo } from './train';

export async function benchCommand(_argv: readonly string[], io: CliIo): Promise<number> {
  io.err('error: bench: not wired yet');
  return 2;
}
