// `fast-advprop read-events FILE…`: reads TensorBoard event files the way the extension follows a
// foreign run (1 MiB reads, whole records only, both CRCs checked) and says what they hold and how
// fast they were read. The figure for #18's target (a 50 MB file in under 1 s) comes from here:
// `npm run bench:events` runs it on a 50 MB file made of the real-writer fixture's records.
import * as fs from 'node:fs';
import { EventFileReader } from '../../shared/foreign/eventFileReader';
import { formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import type { CliIo } from './io';

const CHUNK = 1024 * 1024;

export const READ_EVENTS_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'bool', help: 'print one JSON object per file' },
  help: { type: 'bool', help: 'show this help' },
};

export const READ_EVENTS_USAGE = `usage: fast-advprop read-events [--json] FILE…

Reads TensorBoard event files (events.out.tfevents.*) in 1 MiB pieces, as the extension follows
a foreign run, and prints per file its records, scalars and tags, where a corrupt record stopped
the read, and the time it took (wall and CPU) with the most bytes held between reads.

${formatFlags(READ_EVENTS_FLAGS)}`;

export interface EventFileReport {
  file: string;
  bytes: number;
  records: number;
  scalars: number;
  tags: number;
  steps?: [number, number];
  seconds: number;
  cpuSeconds: number;
  /** Bytes of an unfinished record held between reads, at most (bounded by the largest record). */
  maxHeldBytes: number;
  error?: string;
}

export function readEventFile(file: string): EventFileReport {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const reader = new EventFileReader(file);
  const tags = new Set<string>();
  const out: EventFileReport = { file, bytes: 0, records: 0, scalars: 0, tags: 0, seconds: 0, cpuSeconds: 0, maxHeldBytes: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file}: not a regular file`);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, out.bytes);
      if (n === 0) break;
      out.bytes += n;
      const got = reader.push(buf.subarray(0, n));
      out.records += got.records;
      out.scalars += got.scalars.length;
      for (const s of got.scalars) {
        tags.add(s.tag);
        if (s.step < lo) lo = s.step;
        if (s.step > hi) hi = s.step;
      }
      out.maxHeldBytes = Math.max(out.maxHeldBytes, out.bytes - reader.offset);
      if (got.error) {
        out.error = got.error;
        break;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  out.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  out.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  out.tags = tags.size;
  if (lo <= hi) out.steps = [lo, hi];
  if (!out.error && reader.offset < out.bytes) out.error = `${file}: the last ${out.bytes - reader.offset} bytes are an unfinished record (a writer still running, or a file cut short); read up to byte ${reader.offset}`;
  return out;
}

export function eventReportLine(r: EventFileReport): string {
  const mb = r.bytes / 1024 / 1024;
  return `${r.file}: ${mb.toFixed(1)} MB, ${r.records} records, ${r.scalars} scalars (${r.tags} tags${r.steps ? `, steps ${r.steps[0]}–${r.steps[1]}` : ''}) `
    + `read in ${r.seconds.toFixed(2)} s (${(mb / Math.max(r.seconds, 1e-9)).toFixed(0)} MB/s; CPU ${r.cpuSeconds.toFixed(2)} s), at most ${r.maxHeldBytes} bytes held between reads`
    + (r.error ? `\n  ${r.error}` : '');
}

export function readEventsCommand(argv: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseFlags('read-events', argv, READ_EVENTS_FLAGS);
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (parsed.flags.help) {
    io.out(READ_EVENTS_USAGE);
    return 0;
  }
  if (parsed.positional.length === 0) {
    io.err('error: read-events: name at least one event file (events.out.tfevents.*)');
    return 2;
  }
  let code = 0;
  for (const file of parsed.positional) {
    let r: EventFileReport;
    try {
      r = readEventFile(file);
    } catch (e) {
      io.err(`error: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${file}: no such file` : (e as Error).message}`);
      code = 1;
      continue;
    }
    io.out(parsed.flags.json ? JSON.stringify(r) : eventReportLine(r));
    if (r.error && r.records === 0) code = 1;
  }
  return code;
}
