// Follows every run folder under the runs folder, whoever started it (this window, another
// window, a terminal). File events are a hint only: writes from another process do not reach
// every host's watcher, so a 1 s poll is the source of truth and events just make it sooner.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ForeignRunReader, extraRunDirs, isForeignRunFolder } from './foreign/foreignRunReader';
import { RunFolderReader, type RunSnapshot } from './runSnapshot';
import type { RunsModel } from './services';
import { runFoldersOf } from './sweeps/runFolders';

const POLL_MS = 1000;

/** Our run folders and foreign ones (src/extension/foreign) are followed the same way. */
type RunReader = Pick<RunFolderReader, 'snapshot' | 'poll'>;

export class FolderRunsModel implements RunsModel {
  private readonly emitter = new vscode.EventEmitter<string>();
  readonly onDidChange = this.emitter.event;
  private readers = new Map<string, RunReader>();
  /** fastAdvprop.extraRunFolders plus folders opened with Open Run Folder…, resolved. */
  private extraFolders: string[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private folder: string;

  /** `liveChild` tells which runs this window's own processes hold (alive before any status exists). */
  constructor(runsFolder: string, private readonly liveChild: (runDir: string) => boolean) {
    this.folder = runsFolder;
    this.watch();
    this.refresh();
    this.timer = setInterval(() => this.refresh(), POLL_MS);
  }

  get runsFolder(): string {
    return this.folder;
  }

  /** Follows another folder (the setting changed). */
  setRunsFolder(folder: string): void {
    if (path.resolve(folder) === path.resolve(this.folder)) return;
    this.folder = folder;
    this.readers.clear();
    this.watch();
    this.refresh();
    this.emitter.fire(this.folder);
  }

  /** Also lists the runs in these folders (each a run folder, or a folder of them); see extraRunDirs. */
  setExtraFolders(folders: readonly string[]): void {
    this.extraFolders = [...new Set(folders.map((f) => path.resolve(f)))];
    this.refresh();
  }

  get extraRunFolders(): readonly string[] {
    return this.extraFolders;
  }

  list(): RunSnapshot[] {
    return [...this.readers.values()].map((r) => r.snapshot).sort((a, b) => b.createdMs - a.createdMs);
  }

  get(runDir: string): RunSnapshot | undefined {
    const r = this.readers.get(path.resolve(runDir));
    if (r) return r.snapshot;
    return undefined;
  }

  /** Re-reads the folder list and every run's files; fires for each run that changed. */
  refresh(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.folder, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      names = [];
    }
    const dirs = names.flatMap((name) => runFoldersOf(path.join(this.folder, name)));
    if (this.extraFolders.length) dirs.push(...extraRunDirs(this.extraFolders));
    const seen = new Set<string>();
    let listChanged = false;
    for (const dir of dirs) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      let reader = this.readers.get(dir);
      // A folder without our status or config may be (or become) another trainer's run.
      if (!reader || (reader instanceof RunFolderReader && !reader.snapshot.status && !reader.snapshot.config && isForeignRunFolder(dir))) {
        reader = isForeignRunFolder(dir) ? new ForeignRunReader(dir) : new RunFolderReader(dir, () => this.liveChild(dir));
        this.readers.set(dir, reader);
        listChanged = true;
      }
      let changed = false;
      try {
        changed = reader.poll();
      } catch {
        // A folder deleted mid-read; the next poll drops it.
      }
      if (changed) this.emitter.fire(dir);
    }
    for (const dir of [...this.readers.keys()]) {
      if (!seen.has(dir)) {
        this.readers.delete(dir);
        listChanged = true;
        this.emitter.fire(dir);
      }
    }
    if (listChanged) this.emitter.fire(this.folder);
  }

  private refreshSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.refresh();
    }, 100);
  }

  private watch(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    try {
      this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.folder), '*/*'));
      this.watcher.onDidChange(() => this.refreshSoon());
      this.watcher.onDidCreate(() => this.refreshSoon());
      this.watcher.onDidDelete(() => this.refreshSoon());
    } catch {
      // The poll covers it.
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.watcher?.dispose();
    this.emitter.dispose();
  }
}
