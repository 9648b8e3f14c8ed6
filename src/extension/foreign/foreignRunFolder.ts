// Reads (never writes) a folder written by another trainer, with the pure readers of
// src/shared/foreign. Event files are followed: each poll reads only the bytes appended since the
// last one. The small text files are read again only when their size or mtime changed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectForeignRun, type ForeignFolder } from '../../shared/foreign/detect';
import { EventFileReader } from '../../shared/foreign/eventFileReader';
import type { ScalarPoint } from '../../shared/foreign/eventProto';
import type { ForeignRun } from '../../shared/foreign/foreignRun';
import { readImagenetCLog } from '../../shared/foreign/imagenetCLog';
import { ScalarRunBuilder } from '../../shared/foreign/referenceTags';
import { readReferenceLog } from '../../shared/foreign/referenceLog';
import { readTimmArgs, readTimmSummary } from '../../shared/foreign/timmRun';
import { readSmallFileOrExplain } from '../readSmall';

const MiB = 1024 * 1024;
/** Per read() while catching up: bounds the memory of one poll whatever the file's size. */
export const EVENT_READ_CHUNK = 1 * MiB;
const TEXT_CAP = 16 * MiB;
const IMAGENET_C_CAP = 1 * MiB;

export interface EventPoll {
  /** The new scalars, unless a sink took them chunk by chunk. */
  scalars: ScalarPoint[];
  /** How many new scalars were read. */
  count: number;
  /** New bytes read by this poll. */
  bytes: number;
  /** The file shrank or was replaced: everything read before is void and was read again. */
  restarted: boolean;
  error?: string;
}

/** Follows one event file as it grows. */
export class EventFileFollower {
  private reader: EventFileReader;
  /** Bytes read from the file so far (whole records plus a held-back partial one). */
  position = 0;
  private errorReported = false;

  constructor(readonly file: string) {
    this.reader = new EventFileReader(file);
  }

  get wholeRecordBytes(): number {
    return this.reader.offset;
  }

  /**
   * Reads what was appended since the last poll. With `sink`, the scalars go to it one read chunk
   * at a time and are not gathered, so a poll over a large file holds one chunk's worth at most.
   */
  poll(sink?: (scalars: ScalarPoint[]) => void): EventPoll {
    const out: EventPoll = { scalars: [], count: 0, bytes: 0, restarted: false };
    let fd: number;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    } catch (e) {
      return { ...out, error: `${this.file}: cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return { ...out, error: `${this.file}: not a regular file` };
      if (st.size < this.position) {
        this.reader = new EventFileReader(this.file);
        this.position = 0;
        this.errorReported = false;
        out.restarted = true;
      }
      if (this.reader.failed) return out;
      const buf = Buffer.allocUnsafe(Math.min(EVENT_READ_CHUNK, Math.max(1, st.size - this.position)));
      while (this.position < st.size) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, st.size - this.position), this.position);
        if (n === 0) break;
        this.position += n;
        out.bytes += n;
        const got = this.reader.push(buf.subarray(0, n));
        out.count += got.scalars.length;
        if (sink) sink(got.scalars);
        else for (const s of got.scalars) out.scalars.push(s);
        if (got.error) {
          if (!this.errorReported) out.error = got.error;
          this.errorReported = true;
          break;
        }
      }
      return out;
    } finally {
      fs.closeSync(fd);
    }
  }
}

interface TextState {
  key: string;
  text?: string;
  why?: string;
}

/**
 * A foreign run folder, followed. `poll()` returns the run as read so far, or undefined when the
 * folder holds no foreign run (or is one of ours). Its epoch records are copies; the `extra` series
 * arrays are the follower's own and keep growing with later polls (copying them on every poll
 * would cost as much as reading the file again).
 */
export class ForeignRunFollower {
  private followers = new Map<string, EventFileFollower>();
  private eventRun: ForeignRun = { origin: 'TensorBoard', epochs: [], extra: {}, warnings: [] };
  private builder = new ScalarRunBuilder(this.eventRun);
  private texts = new Map<string, TextState>();
  private eventErrors: string[] = [];
  folder: ForeignFolder | undefined;

  constructor(readonly dir: string) {}

  poll(): ForeignRun | undefined {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (e) {
      throw new Error(`${this.dir}: cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const folder = detectForeignRun(names);
    this.folder = folder;
    if (!folder) return undefined;

    for (const name of folder.eventFiles) {
      let f = this.followers.get(name);
      if (!f) this.followers.set(name, (f = new EventFileFollower(path.join(this.dir, name))));
      const got = f.poll((points) => this.builder.add(points));
      if (got.restarted) return this.restart();
      if (got.error) this.eventErrors.push(got.error);
    }

    const run: ForeignRun = { origin: folder.origin, epochs: [], extra: { ...this.eventRun.extra }, warnings: [...this.eventErrors] };
    const fromText: ForeignRun = { origin: folder.origin, epochs: [], extra: {}, warnings: [] };
    if (folder.referenceLog) this.fold(folder.referenceLog, fromText, readReferenceLog);
    if (folder.timmSummary) this.fold(folder.timmSummary, fromText, readTimmSummary);
    // The event file and log.txt hold the same epochs; the event file has the attack/adv streams too.
    run.epochs = this.eventRun.epochs.length ? this.eventRun.epochs.map((e) => ({ ...e })) : fromText.epochs;
    if (!this.eventRun.epochs.length) Object.assign(run.extra, fromText.extra);
    run.warnings.push(...fromText.warnings);
    if (folder.timmArgs) {
      const t = this.text(folder.timmArgs, TEXT_CAP);
      if (t.text !== undefined) run.description = readTimmArgs(t.text);
      else if (t.why) run.warnings.push(`${path.join(this.dir, folder.timmArgs)}: ${t.why}`);
    }
    for (const name of folder.logCandidates) {
      const t = this.text(name, IMAGENET_C_CAP);
      if (t.text === undefined || !t.text.includes('CE (unnormalized)')) continue;
      try {
        run.imagenetC = readImagenetCLog(path.join(this.dir, name), t.text);
        break;
      } catch (e) {
        run.warnings.push((e as Error).message);
      }
    }
    return run;
  }

  private restart(): ForeignRun | undefined {
    this.followers.clear();
    this.eventRun = { origin: 'TensorBoard', epochs: [], extra: {}, warnings: [] };
    this.builder = new ScalarRunBuilder(this.eventRun);
    this.eventErrors = [];
    return this.poll();
  }

  private fold(name: string, into: ForeignRun, read: (file: string, text: string, run: ForeignRun) => void): void {
    const file = path.join(this.dir, name);
    const t = this.text(name, TEXT_CAP);
    if (t.text === undefined) {
      into.warnings.push(`${file}: ${t.why ?? 'cannot be read'}`);
      return;
    }
    try {
      read(file, t.text, into);
    } catch (e) {
      into.warnings.push((e as Error).message);
    }
  }

  /** The file's text, read again only when its size or mtime changed. */
  private text(name: string, cap: number): TextState {
    const file = path.join(this.dir, name);
    let key: string;
    try {
      const st = fs.statSync(file);
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      return { key: '', why: 'it does not exist' };
    }
    const had = this.texts.get(name);
    if (had && had.key === key) return had;
    const r = readSmallFileOrExplain(file, cap);
    const state: TextState = 'text' in r ? { key, text: r.text } : { key, why: r.why };
    this.texts.set(name, state);
    return state;
  }
}

/** One read of a folder, for callers that do not follow it. */
export function readForeignRunFolder(dir: string): ForeignRun | undefined {
  return new ForeignRunFollower(dir).poll();
}
