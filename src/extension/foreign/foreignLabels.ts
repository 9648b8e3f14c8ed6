// What the Runs view's tooltip says of a foreign run: where it came from, what its writer recorded
// of it, and what could not be read. No vscode import: unit tested.
import type { ForeignInfo } from './foreignSnapshot';

export function foreignTooltipLines(f: ForeignInfo): string[] {
  const lines = [`Written by: ${f.origin} (read-only: nothing is started, stopped or written here)`];
  const d = f.description;
  if (d) {
    const parts = [d.model && `model ${d.model}`, d.epochs !== undefined && `${d.epochs} epochs`, d.batchSize !== undefined && `batch ${d.batchSize}`, d.lr !== undefined && `lr ${d.lr}`].filter(Boolean);
    if (parts.length) lines.push(`Args: ${parts.join(', ')}`);
  }
  for (const w of f.warnings.slice(0, 5)) lines.push(`⚠ ${w}`);
  if (f.warnings.length > 5) lines.push(`⚠ … and ${f.warnings.length - 5} more`);
  return lines;
}

/**
 * Stop, Resume, Evaluate and Delete are hidden for a foreign run; invoked anyway (palette with a
 * folder argument, another extension) they refuse in one line rather than touch its folder.
 */
export function foreignRefusal(what: string, snap: { name: string; foreign?: ForeignInfo } | undefined): string | undefined {
  if (!snap?.foreign) return undefined;
  return `Fast AdvProp: ${what} is not available for "${snap.name}": it was written by ${snap.foreign.origin}, and runs of other trainers are only read, never started, stopped or changed. Use its own tools for that.`;
}
