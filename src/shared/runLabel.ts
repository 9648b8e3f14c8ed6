// Short labels for run names, shared by the Runs view and the panels' run lists.

// Engine-generated names are `<method>-<yyyyMMdd-HHmmss>` (run/runDir.ts defaultRunName), with
// `-2`, `-3` … when two start in the same second.
const GENERATED_NAME = /^(.+)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?$/;

// Even "fast-advprop 01:58" left no room for accuracy and mCE at the default sidebar width.
const SHORT_METHOD: Record<string, string> = { 'fast-advprop': 'FastAP', advprop: 'AdvProp', vanilla: 'Vanilla' };

/**
 * A run's short label (the Runs view, the budget calculator's run list). At the default sidebar
 * width a generated name alone fills the row and the figures in the description are never seen
 * (#16), so `fast-advprop-20261207-015812` becomes `FastAP 01:58` and `sweep-20261207-015812` (a
 * workspace config's run) `sweep 01:58`; the full name and date stay in the tooltip. A name
 * without a timestamp is the user's choice and is kept.
 */
export function shortRunLabel(name: string): string {
  const m = GENERATED_NAME.exec(name);
  if (!m) return name;
  const [, prefix, , , , hh, mm, , dup] = m;
  return `${SHORT_METHOD[prefix] ?? prefix} ${hh}:${mm}${dup ? ` (${dup})` : ''}`;
}

/** Whether the label already names the method (a generated default one does), so the description need not. */
export function labelNamesMethod(name: string): boolean {
  const prefix = GENERATED_NAME.exec(name)?.[1];
  return prefix !== undefined && prefix in SHORT_METHOD;
}

/** The date of a generated name, `2026-12-07 01:58:12`, for the tooltip. */
export function runStartedStamp(name: string): string | undefined {
  const m = GENERATED_NAME.exec(name);
  return m ? `${m[2]}-${m[3]}-${m[4]} ${m[5]}:${m[6]}:${m[7]}` : undefined;
}

/**
 * Short labels for a list the user picks from, where only the label is read: two runs started in
 * the same minute would read the same, so those keep their full names.
 */
export function distinctShortLabels(names: readonly string[]): string[] {
  const short = names.map(shortRunLabel);
  const count = new Map<string, number>();
  for (const l of short) count.set(l, (count.get(l) ?? 0) + 1);
  return short.map((l, i) => (count.get(l)! > 1 ? names[i] : l));
}
