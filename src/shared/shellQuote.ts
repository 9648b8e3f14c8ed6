// Commands we print for the user to paste ("continue with: fast-advprop train --resume <dir>") must
// paste as exactly one argument per value: a run folder like `/tmp/q;touch x` would otherwise run
// `touch x`. Pure: used by the engine and available to the extension.

/** POSIX sh quoting: a plain word as it is, anything else in single quotes (a ' becomes '\''). */
export function shellQuote(arg: string): string {
  if (/^[\w./:=,@+%-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A whole command line, each argument quoted as needed. */
export function shellCommand(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
