// "6 epochs" in a config and "epoch 1/5" on screen are the same run: with sameBudget the engine
// trains fewer epochs so that the attacked passes cost what `epochs` vanilla epochs would. Users
// saw both numbers unexplained (issue #16), so every place that shows a config's epochs next to
// the trained count says it the same way. Free of node and vscode imports: the webviews use it.

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `5 epochs (6 vanilla-equivalent, same budget)` when the trained count differs from the
 * configured vanilla-equivalent one; `5 epochs` otherwise.
 */
export function epochsText(trained: number, configured?: number): string {
  if (configured === undefined || configured === trained) return plural(trained, 'epoch');
  return `${plural(trained, 'epoch')} (${configured} vanilla-equivalent, same budget)`;
}
