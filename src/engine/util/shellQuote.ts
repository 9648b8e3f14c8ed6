/** An argument as a POSIX shell reads it back unchanged: pasting a suggested command runs only that command. */
export function shellQuote(arg: string): string {
  return /^[\w./:=,@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
