/** Where a command's lines go: stdout and stderr in the CLI, arrays in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}
