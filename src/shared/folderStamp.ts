// The local-time stamp in every generated folder name (runs, studies, sweeps): YYYYMMDD-HHMMSS, so
// the names sort by creation time and read the same whoever made them (engine, CLI or extension).

const pad2 = (n: number): string => String(n).padStart(2, '0');

export function folderStamp(d: Date = new Date()): string {
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
}
