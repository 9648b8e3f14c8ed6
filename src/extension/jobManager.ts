// Starts, stops, resumes and evaluates engine processes. The extension host never loads
// TensorFlow.js: every run is `node dist/cli.js …` in its own process group, and the run folder is
// the only channel back. Runs outlive the window (a reload re-attaches by pid).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ConfigError, DEFAULT_CONFIG, configTextProblems, listConfigProblems, parseConfigText, resolveConfig, type RunConfig,
} from '../shared/config';
import { FINAL_STATES, RUN_FILES, RUN_LOCK_FILE, type RunResults } from '../shared/runFormat';
import { RUN_FILE_CAPS, readLogTail, readSmallFile, readSmallFileOrExplain } from './readSmall';
import {
  cliPath, engineEnv, evaluateArgs, killGroup, resumeArgs, sendTerm, tailLines, trainArgs, type EngineFlags,
} from './engineCommand';
import { FileTail } from './fileTail';
import { evaluationFinished, trainingFinished, type FinishMessage } from './jobs/finishMessages';
import { JobQueue, mustQueue } from './jobQueue';
import { UnsafePathError, checkRunDir, safeRunDir } from './paths';
import {
  CONSOLE_FILE, claimQueued, finalizeStatus, markCrashed, readQueueRecord, readStatus, writeQueued, writeStopRequest, type QueueRecord,
} from './runFolderWrites';
import { QUEUE_FILE } from '../engine/run/queue';
import { pointRunDir, readManifest } from '../engine/sweep/manifest';
import { isSweepFolder } from './sweeps/runFolders';
import { isPidAlive, ownerOf, verifiedPid } from './runs/processIdentity';
import { MANAGE_TRUST, trustRefusal } from './runs/trust';
import type { FolderRunsModel } from './runsModel';
import type { EvaluateOptions, JobManager, StartOptions } from './services';
import type { Settings } from './settings';
import { folderStamp } from '../shared/folderStamp';

const STOP_GRACE_MS = 30_000;

interface Job extends vscode.Disposable {
  runDir: string;
  name: string;
  child: ChildProcess;
  stops: number;
  killed: boolean;
  exited: Promise<number | null>;
}

interface Queued {
  runDir: string;
  record: QueueRecord;
}

/** An error already shown to the user; callers (commands) must not show it again. */
export class ShownError extends Error {
  readonly shown = true;
}

function readJsonFile(file: string, max: number = RUN_FILE_CAPS.config): unknown {
  try {
    const text = readSmallFile(file, max);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function holdsRun(dir: string): boolean {
  return fs.existsSync(path.join(dir, RUN_FILES.config)) || fs.existsSync(path.join(dir, RUN_FILES.status));
}

export class EngineJobManager implements JobManager {
  private readonly emitter = new vscode.EventEmitter<string>();
  readonly onDidChange = this.emitter.event;
  private readonly jobs = new Map<string, Job>();
  private readonly queue = new JobQueue<Queued>();
  private readonly tails = new Map<string, FileTail>();
  /** Stop requests sent to runs this window did not start, by run folder: the second one kills. */
  private readonly externalStops = new Map<string, number>();
  private runs: FolderRunsModel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly settings: () => Settings,
  ) {}

  /** Wired after construction: the runs model asks us which runs our children hold. */
  attach(runs: FolderRunsModel): void {
    this.runs = runs;
    this.disposables.push(runs.onDidChange(() => this.drainQueue()));
    // Queued runs found in an untrusted folder wait for trust, then start as they would have.
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
      this.adoptQueued();
      this.drainQueue();
    }));
    this.adoptFolder();
  }

  isOwnLive(runDir: string): boolean {
    return this.jobs.has(path.resolve(runDir));
  }

  private get runsFolder(): string {
    return this.runs?.runsFolder ?? this.settings().runsFolder;
  }

  private flags(): EngineFlags {
    const s = this.settings();
    return { backend: s.backend, workers: s.workers };
  }

  private fail(message: string, actions: { title: string; run: () => void }[] = []): never {
    void vscode.window.showErrorMessage(message, ...actions.map((a) => a.title)).then((picked) => actions.find((a) => a.title === picked)?.run());
    throw new ShownError(message);
  }

  private requireTrust(what: string, toWhat: string, why: string): void {
    const refusal = trustRefusal(what, toWhat, why);
    if (refusal) this.fail(refusal, [MANAGE_TRUST]);
  }

  /** Parses and validates before anything exists on disk; a bad field is named with its fix. */
  private resolveStartConfig(opts: StartOptions): { config: RunConfig; source: string } {
    let source = 'the built-in default config';
    let config: RunConfig;
    let text: string | undefined;
    try {
      if (opts.configPath) {
        source = vscode.workspace.asRelativePath(opts.configPath);
        const read = readSmallFileOrExplain(opts.configPath, RUN_FILE_CAPS.runConfig);
        if ('why' in read) throw new ConfigError('(file)', `cannot read ${opts.configPath}: ${read.why}`);
        text = read.text;
        config = parseConfigText(text, source);
      } else if (opts.config) {
        source = 'the given config';
        config = resolveConfig(opts.config);
      } else {
        config = structuredClone(DEFAULT_CONFIG);
      }
      if (opts.overrides && Object.keys(opts.overrides).length > 0) config = resolveConfig(opts.overrides, config);
    } catch (e) {
      if (e instanceof ConfigError) {
        const open = opts.configPath ? [{ title: 'Open Config', run: () => void vscode.window.showTextDocument(vscode.Uri.file(opts.configPath!)) }] : [];
        // Every problem at once: fixing one to be told of the next is a slow loop.
        let problems: ConfigError[] = [e];
        try {
          if (text !== undefined) problems = configTextProblems(text, source);
          else if (opts.config) problems = listConfigProblems(opts.config);
        } catch {
          problems = [e];
        }
        if (problems.length === 0) problems = [e];
        const say = (p: ConfigError) => `"${p.field}" ${p.message.slice(p.field.length + 2)}`;
        this.fail(problems.length === 1
          ? `Fast AdvProp: invalid run config in ${source}: ${say(problems[0])}`
          : `Fast AdvProp: ${problems.length} problems in run config ${source}: ${problems.map((p, i) => `(${i + 1}) ${say(p)}`).join('; ')}`, open);
      }
      throw e;
    }
    return { config, source };
  }

  private chooseRunDir(opts: StartOptions, config: RunConfig, source: string): string {
    const folder = this.runsFolder;
    try {
      if (opts.runName !== undefined) {
        const dir = safeRunDir(folder, opts.runName);
        if (holdsRun(dir)) this.fail(`Fast AdvProp: a run named "${opts.runName}" already exists in ${folder}; pick another name, or resume it.`);
        return dir;
      }
      const fromFile = opts.configPath ? path.basename(opts.configPath).replace(/\.advprop\.json$/i, '').replace(/[^A-Za-z0-9._-]/g, '-') : undefined;
      const base = config.name ?? `${fromFile && /^[A-Za-z0-9]/.test(fromFile) ? fromFile : config.method}-${folderStamp()}`;
      let dir = safeRunDir(folder, base.slice(0, 90));
      for (let i = 2; holdsRun(dir) || fs.existsSync(dir); i++) dir = safeRunDir(folder, `${base.slice(0, 90)}-${i}`);
      return dir;
    } catch (e) {
      if (e instanceof UnsafePathError) this.fail(`Fast AdvProp: ${e.message} (config ${source}).`);
      throw e;
    }
  }

  async start(opts: StartOptions = {}): Promise<{ runDir: string }> {
    this.requireTrust('Start Training', 'start training', 'training runs code and reads data paths from this workspace\'s config files');
    const { config, source } = this.resolveStartConfig(opts);
    const runDir = this.chooseRunDir(opts, config, source);
    fs.mkdirSync(this.runsFolder, { recursive: true });
    if (mustQueue(this.activeCount(), this.settings().maxConcurrentRuns)) {
      const record: QueueRecord = { schema: 1, kind: 'train', queuedAt: new Date().toISOString(), config, source };
      writeQueued(runDir, record);
      this.queue.enqueue({ runDir, record });
      this.output.appendLine(`[${path.basename(runDir)}] queued: ${this.activeCount()} run(s) already training (fastAdvprop.maxConcurrentRuns = ${this.settings().maxConcurrentRuns})`);
      this.changed(runDir);
      return { runDir };
    }
    await this.spawnTrain(runDir, { kind: 'train', config, source });
    return { runDir };
  }

  async resume(runDirArg: string): Promise<{ runDir: string }> {
    this.requireTrust('Resume Training', 'resume training', 'a resume starts the engine on the config and data paths recorded in this workspace\'s run folder');
    const runDir = this.checked(runDirArg);
    if (this.jobs.has(runDir) || this.runs?.get(runDir)?.alive) this.fail(`Fast AdvProp: ${path.basename(runDir)} is still running.`);
    const status = readStatus(runDir);
    if (!fs.existsSync(path.join(runDir, RUN_FILES.config))) this.fail(`Fast AdvProp: ${path.basename(runDir)} has no config.json, so there is nothing to resume; start a new run instead.`);
    if (status?.state === 'completed') this.fail(`Fast AdvProp: ${path.basename(runDir)} already completed; start a new run to train longer.`);
    if (status?.state === 'queued' || this.queue.has(runDir)) this.fail(`Fast AdvProp: ${path.basename(runDir)} is already queued.`);
    if (mustQueue(this.activeCount(), this.settings().maxConcurrentRuns)) {
      const record: QueueRecord = { schema: 1, kind: 'resume', queuedAt: new Date().toISOString() };
      writeQueued(runDir, record, status);
      this.queue.enqueue({ runDir, record });
      this.changed(runDir);
      return { runDir };
    }
    await this.spawnTrain(runDir, { kind: 'resume' });
    return { runDir };
  }

  async stop(runDirArg: string): Promise<void> {
    this.requireTrust('Stop Training', 'stop runs', 'this workspace\'s run folders could name any process to signal');
    const runDir = this.checked(runDirArg);
    const name = path.basename(runDir);
    const queued = this.queue.remove(runDir);
    if (queued || readStatus(runDir)?.state === 'queued') {
      // Waiting runs have no process: taking the queue record stops them from starting anywhere.
      claimQueued(runDir);
      finalizeStatus(runDir, 'stopped', 'removed from the queue before it started');
      this.output.appendLine(`[${name}] removed from the queue`);
      this.changed(runDir);
      return;
    }
    const job = this.jobs.get(runDir);
    if (job) {
      job.stops++;
      const pid = job.child.pid;
      if (job.stops === 1 && pid) {
        this.output.appendLine(`[${name}] stopping: the engine finishes the current step and saves a checkpoint (Stop again to kill it)`);
        // The file is the fallback where signals cannot be sent politely (Windows); a signalled
        // engine never reads it, and a leftover file would stop the next --resume at once.
        if (!sendTerm(pid)) writeStopRequest(runDir);
        const timer = setTimeout(() => this.forceKill(job, `it did not exit within ${STOP_GRACE_MS / 1000} s of the stop request`), STOP_GRACE_MS);
        void job.exited.then(() => clearTimeout(timer));
      } else {
        this.forceKill(job, 'Stop was requested twice');
      }
      return;
    }
    // A run this window did not start: a terminal, another window, or before a reload. Only the
    // process run.lock names, verified to be the one that took the lock, is ever signalled;
    // status.json's pid is a display value anyone can write.
    const status = readStatus(runDir);
    if (!status || FINAL_STATES.includes(status.state)) {
      void vscode.window.showInformationMessage(`Fast AdvProp: ${name} is not running.`);
      return;
    }
    const owner = ownerOf(runDir);
    if (owner.owner === 'other-host') {
      // Nothing here can check or signal it; that engine polls for the file.
      writeStopRequest(runDir);
      this.output.appendLine(`[${name}] trained by process ${owner.lock.pid} on ${owner.lock.host}; wrote ${RUN_FILES.stopRequest} for that engine to pick up`);
      this.changed(runDir);
      return;
    }
    if (owner.owner !== 'verified') {
      const pid = owner.owner === 'stale' ? owner.lock.pid : status.pid;
      const why = owner.owner === 'stale' ? owner.why : `no engine holds its ${RUN_LOCK_FILE}`;
      markCrashed(runDir, `the engine is gone (${why}); resume continues from the last checkpoint`);
      const msg = `run ${name} is not running (stale pid ${pid ?? 'none'}: ${why}); marked crashed, nothing was signalled. Resume continues from its last checkpoint.`;
      this.output.appendLine(`[${name}] ${msg}`);
      void vscode.window.showWarningMessage(`Fast AdvProp: ${msg}`);
      this.changed(runDir);
      return;
    }
    const { pid, nonce } = owner.lock;
    const stops = (this.externalStops.get(runDir) ?? 0) + 1;
    this.externalStops.set(runDir, stops);
    if (stops === 1) {
      this.output.appendLine(`[${name}] stop requested (pid ${pid}); Stop again to kill it`);
      if (!sendTerm(pid)) writeStopRequest(runDir);
      const timer = setTimeout(() => {
        if (verifiedPid(runDir, nonce) === pid) this.killExternal(runDir, pid, nonce, `it did not exit within ${STOP_GRACE_MS / 1000} s of the stop request`);
      }, STOP_GRACE_MS);
      this.disposables.push({ dispose: () => clearTimeout(timer) });
    } else {
      this.killExternal(runDir, pid, nonce, 'Stop was requested twice');
    }
    this.changed(runDir);
  }

  private killExternal(runDir: string, pid: number, nonce: string, why: string): void {
    const name = path.basename(runDir);
    this.externalStops.delete(runDir);
    // The lock is read again right before the kill: the engine may have exited and its pid been reused since.
    if (verifiedPid(runDir, nonce) !== pid) {
      this.output.appendLine(`[${name}] not killing pid ${pid}: it no longer holds the run's ${RUN_LOCK_FILE}`);
      this.changed(runDir);
      return;
    }
    this.output.appendLine(`[${name}] killing pid ${pid}: ${why}`);
    killGroup(pid);
    setTimeout(() => {
      if (!isPidAlive(pid)) finalizeStatus(runDir, 'stopped', `killed after a stop request (${why}); resume continues from the last checkpoint`);
      this.changed(runDir);
    }, 500);
  }

  private forceKill(job: Job, why: string): void {
    if (job.killed || job.child.exitCode !== null) return;
    job.killed = true;
    this.output.appendLine(`[${job.name}] killing the engine's process group: ${why}`);
    if (job.child.pid) killGroup(job.child.pid);
    else job.child.kill('SIGKILL');
  }

  async evaluate(runDirArg: string, opts: EvaluateOptions = {}): Promise<void> {
    this.requireTrust('Evaluate Robustness', 'evaluate runs', 'evaluation starts the engine on the data paths recorded in this workspace\'s run folder');
    const runDir = this.checked(runDirArg);
    const name = path.basename(runDir);
    if (!fs.existsSync(path.join(runDir, RUN_FILES.config))) this.fail(`Fast AdvProp: ${name} has no trained model to evaluate yet.`);
    if (this.jobs.has(runDir) || this.runs?.get(runDir)?.alive) this.fail(`Fast AdvProp: ${name} is still training; evaluate it when it has stopped or completed.`);
    const cli = cliPath(this.context.extensionPath);
    const args = evaluateArgs(cli, runDir, opts);
    await this.runWithProgress({ title: `Fast AdvProp: evaluating robustness of ${name}`, name, what: 'evaluation', args, cwd: runDir, logFile: path.join(runDir, 'evaluate.log') })
      .finally(() => this.changed(runDir))
      .then(() => this.notify(runDir, evaluationFinished(name, readJsonFile(path.join(runDir, RUN_FILES.robustness)))), (e: Error) => {
        this.fail(`Fast AdvProp: ${name}: ${e.message}`, [{ title: 'Show Log', run: () => this.output.show(true) }]);
      });
  }

  /**
   * `fast-advprop bench --out` on this machine, with progress; resolves to the report's path. It
   * reads nothing from the workspace, so it needs no trust. The report and log go to the
   * extension's global storage (a new report replaces the previous one).
   */
  async benchmark(opts: { quick?: boolean } = {}): Promise<string> {
    const dir = this.context.globalStorageUri.fsPath;
    fs.mkdirSync(dir, { recursive: true });
    const report = path.join(dir, 'bench-report.json');
    const args = [cliPath(this.context.extensionPath), 'bench', '--out', report, ...(opts.quick ? ['--quick'] : [])];
    await this.runWithProgress({ title: 'Fast AdvProp: measuring training throughput', name: 'bench', what: 'benchmark', args, cwd: dir, logFile: path.join(dir, 'bench.log') })
      .then(undefined, (e: Error) => {
        this.fail(`Fast AdvProp: ${e.message}`, [{ title: 'Show Log', run: () => this.output.show(true) }]);
      });
    return report;
  }

  /** Runs an engine command detached, its output into logFile and the output channel, with a cancellable progress notification. */
  private runWithProgress(o: { title: string; name: string; what: string; args: string[]; cwd: string; logFile: string }): Promise<void> {
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: o.title, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve, reject) => {
          const fd = fs.openSync(o.logFile, 'a');
          const start = fs.fstatSync(fd).size;
          let child: ChildProcess;
          try {
            child = spawn(process.execPath, o.args, { cwd: o.cwd, env: engineEnv(), detached: true, stdio: ['ignore', fd, fd], windowsHide: true });
          } finally {
            fs.closeSync(fd);
          }
          this.output.appendLine(`[${o.name}] ${o.args.slice(1).join(' ')}`);
          const tail = new FileTail(o.logFile, (line) => {
            this.output.appendLine(`[${o.name}] ${line}`);
            progress.report({ message: line.length > 80 ? `${line.slice(0, 77)}…` : line });
          }, start).start();
          token.onCancellationRequested(() => child.pid && killGroup(child.pid));
          child.on('error', (e) => {
            tail.dispose();
            reject(e);
          });
          child.on('exit', (code, signal) => {
            tail.flush();
            tail.dispose();
            if (code === 0) return resolve();
            const text = readLogTail(o.logFile, start);
            reject(new Error(token.isCancellationRequested ? `${o.what} cancelled` : `${o.what} failed (${signal ?? `exit code ${code}`}): ${tailLines(text, 6) || 'no output'}`));
          });
        }),
    ));
  }

  /** Runs holding a training slot: this window's children plus live runs started elsewhere. */
  private liveRunDirs(): Set<string> {
    const live = new Set(this.jobs.keys());
    for (const s of this.runs?.list() ?? []) if (s.alive && s.status?.state !== 'queued') live.add(s.runDir);
    return live;
  }

  private activeCount(): number {
    return this.liveRunDirs().size;
  }

  /** A local sweep's own limit of points at once (its `parallel`) for one of its points' run folders. */
  private sweepLimit(runDir: string): { sweep: string; parallel: number } | undefined {
    if (path.basename(path.dirname(runDir)) !== 'runs') return undefined;
    const sweep = path.dirname(path.dirname(runDir));
    if (!isSweepFolder(sweep)) return undefined;
    try {
      const m = readManifest(sweep);
      return m.executor === 'local' ? { sweep, parallel: Math.max(1, Math.floor(m.parallel ?? 1)) } : undefined;
    } catch {
      return undefined; // a torn or forged manifest: the run waits only for maxConcurrentRuns
    }
  }

  private checked(runDir: string): string {
    try {
      return checkRunDir(this.runsFolder, runDir);
    } catch (e) {
      if (e instanceof UnsafePathError) this.fail(`Fast AdvProp: ${e.message}`);
      throw e;
    }
  }

  private changed(runDir: string): void {
    this.emitter.fire(runDir);
    this.runs?.refresh();
  }

  private async spawnTrain(runDir: string, rec: Pick<QueueRecord, 'kind' | 'config' | 'source'>): Promise<void> {
    // Every path to an engine process ends here; the callers check trust too, with their own words.
    this.requireTrust('Training', 'start training', 'training runs code and reads data paths from this workspace\'s files');
    const name = path.basename(runDir);
    const cli = cliPath(this.context.extensionPath);
    if (!fs.existsSync(cli)) {
      if (rec.kind === 'train') finalizeStatus(runDir, 'failed', `the engine is missing: ${cli} does not exist (run "npm run build")`);
      this.fail(`Fast AdvProp: the training engine ${cli} is missing; the extension was not built ("npm run build").`);
    }
    let tmpDir: string | undefined;
    let args: string[];
    if (rec.kind === 'train') {
      tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fast-advprop-'));
      const configFile = path.join(tmpDir, 'config.json');
      fs.writeFileSync(configFile, JSON.stringify(rec.config, null, 2) + '\n');
      args = trainArgs(cli, configFile, runDir, this.flags());
    } else {
      args = resumeArgs(cli, runDir, this.flags());
    }
    fs.mkdirSync(runDir, { recursive: true });
    // A fresh stop.request from an earlier stop would end the new process at its first step.
    fs.rmSync(path.join(runDir, RUN_FILES.stopRequest), { force: true });
    const consoleFile = path.join(runDir, CONSOLE_FILE);
    const fd = fs.openSync(consoleFile, 'a');
    const startOffset = fs.fstatSync(fd).size;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, {
        cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.dirname(runDir),
        env: engineEnv(),
        detached: true,
        stdio: ['ignore', fd, fd],
        windowsHide: true,
      });
    } finally {
      fs.closeSync(fd);
    }
    this.output.appendLine(`[${name}] ${rec.kind === 'resume' ? 'resuming' : 'starting'}: ${path.basename(process.execPath)} ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
    const tail = new FileTail(consoleFile, (line) => this.output.appendLine(`[${name}] ${line}`), startOffset).start();

    let resolveExit!: (code: number | null) => void;
    const exited = new Promise<number | null>((r) => (resolveExit = r));
    const job: Job = {
      runDir, name, child, stops: 0, killed: false, exited,
      dispose: () => {
        // Leaving the window does not stop training: the run continues and is re-attached by pid.
        tail.dispose();
        child.unref();
      },
    };
    this.jobs.set(runDir, job);

    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) => {
        this.jobs.delete(runDir);
        tail.dispose();
        if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
        finalizeStatus(runDir, 'failed', `could not start the engine: ${e.message}`);
        this.changed(runDir);
        reject(e);
      });
    }).catch((e: Error) => this.fail(`Fast AdvProp: could not start the engine for ${name}: ${e.message}`));

    child.on('exit', (code, signal) => {
      tail.flush();
      tail.dispose();
      this.jobs.delete(runDir);
      if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
      // An unread stop request would end the next --resume at its first step.
      fs.rmSync(path.join(runDir, RUN_FILES.stopRequest), { force: true });
      const text = readLogTail(consoleFile, startOffset);
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      this.output.appendLine(`[${name}] engine exited (${how})`);
      if (job.killed) finalizeStatus(runDir, 'stopped', 'killed after a stop request; resume continues from the last checkpoint');
      else if (code !== 0) finalizeStatus(runDir, 'failed', tailLines(text, 6) || `the engine exited with ${how} and no output`);
      else finalizeStatus(runDir, 'failed', 'the engine exited without writing a final status');
      resolveExit(code);
      this.changed(runDir);
      this.announce(runDir, text);
      this.drainQueue();
    });
    this.changed(runDir);
  }

  /** Shows a finish notification; its one button does what the user most likely wants next. */
  private notify(runDir: string, m: FinishMessage): void {
    const show = m.severity === 'error' ? vscode.window.showErrorMessage : m.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(m.text, m.action).then((picked) => {
      if (picked === 'Show Log') void vscode.commands.executeCommand('fastAdvprop.showLog', runDir);
      else if (picked === 'Open Dashboard') void vscode.commands.executeCommand('fastAdvprop.openDashboard', runDir);
      else if (picked === 'Open Robustness Panel') void vscode.commands.executeCommand('fastAdvprop.openRobustness', runDir);
    });
  }

  private announce(runDir: string, consoleText: string): void {
    const name = path.basename(runDir);
    const status = readStatus(runDir);
    this.notify(runDir, trainingFinished(name, status, readJsonFile(path.join(runDir, RUN_FILES.results)) as RunResults | undefined, tailLines(consoleText, 3)));
    if (status?.state === 'completed') {
      const snap = this.runs?.get(runDir);
      const autoEval = this.settings().autoEvaluate && !snap?.config?.config?.autoEvaluate;
      if (autoEval) void this.evaluate(runDir).catch(() => undefined);
    }
  }

  /** Starts queued runs while slots are free; never in an untrusted workspace, whose queue.json could hold anything. */
  private drainQueue(): void {
    if (this.queue.size === 0 || !vscode.workspace.isTrusted) return;
    // Taken meanwhile by someone else (another window, `sweep` in a terminal, Stop Sweep): not ours to start.
    this.queue.prune((i) => !fs.existsSync(path.join(i.runDir, QUEUE_FILE)));
    const live = this.liveRunDirs();
    const perSweep = new Map<string, number>();
    // A sweep's points also wait for the sweep's own `parallel` (fastAdvprop.sweep.parallel), as on the CLI.
    const mayStart = (item: Queued): boolean => {
      const lim = this.sweepLimit(item.runDir);
      if (!lim) return true;
      const n = perSweep.get(lim.sweep) ?? [...live].filter((d) => path.dirname(path.dirname(d)) === lim.sweep).length;
      if (n >= lim.parallel) return false;
      perSweep.set(lim.sweep, n + 1);
      return true;
    };
    for (const item of this.queue.takeStartable(live.size, this.settings().maxConcurrentRuns, mayStart)) {
      const record = claimQueued(item.runDir) ?? undefined;
      if (!record) continue; // another window took it, or it was cancelled
      void this.spawnTrain(item.runDir, record).catch(() => undefined);
    }
  }

  /**
   * Start Sweep: the sweep's points, queued by `sweep --enqueue-only`, join this window's queue in
   * point order and start under maxConcurrentRuns with every other run. Returns how many joined.
   */
  adoptSweep(dirArg: string): number {
    this.requireTrust('Start Sweep', 'start sweeps', 'a sweep trains this workspace\'s configs');
    const dir = this.checked(dirArg);
    const m = readManifest(dir);
    let n = 0;
    for (const p of m.points) {
      if (p.command !== undefined) continue;
      const runDir = pointRunDir(dir, p);
      const record = readQueueRecord(runDir);
      if (!record || readStatus(runDir)?.state !== 'queued') continue;
      this.queue.enqueue({ runDir, record });
      n++;
    }
    this.output.appendLine(`sweep ${m.name}: ${n} point(s) queued; they start under fastAdvprop.maxConcurrentRuns (${this.settings().maxConcurrentRuns}), at most ${m.parallel ?? 1} at once`);
    this.runs?.refresh();
    this.drainQueue();
    return n;
  }

  /** Queued runs waiting in the folder (after a reload, or from another window), oldest first; only in a trusted workspace. */
  private adoptQueued(): void {
    if (!vscode.workspace.isTrusted) return;
    for (const s of this.runs?.list().slice().reverse() ?? []) {
      if (s.status?.state !== 'queued') continue;
      const record = readQueueRecord(s.runDir);
      if (record) this.queue.enqueue({ runDir: s.runDir, record });
    }
  }

  /** After a reload: queued runs waiting in the folder, and live runs whose output we can follow. */
  private adoptFolder(): void {
    const queued = this.runs?.list().filter((s) => s.status?.state === 'queued').length ?? 0;
    if (queued > 0 && !vscode.workspace.isTrusted) {
      this.output.appendLine(`${queued} queued run(s) in ${this.runsFolder} not started: this workspace is not trusted (Restricted Mode). Trust this workspace to let them start.`);
    }
    this.adoptQueued();
    for (const s of this.runs?.list().slice().reverse() ?? []) {
      if (s.alive && !this.tails.has(s.runDir)) {
        const name = path.basename(s.runDir);
        const tail = new FileTail(path.join(s.runDir, CONSOLE_FILE), (line) => this.output.appendLine(`[${name}] ${line}`), 'end').start(1000);
        this.tails.set(s.runDir, tail);
        this.output.appendLine(`[${name}] re-attached to the running engine (pid ${s.status?.pid})`);
      }
    }
    this.disposables.push(this.runs!.onDidChange((dir) => {
      const tail = this.tails.get(dir);
      if (tail && !this.runs?.get(dir)?.alive) {
        tail.flush();
        tail.dispose();
        this.tails.delete(dir);
      }
    }));
    this.drainQueue();
  }

  hasLiveRun(): boolean {
    return this.jobs.size > 0 || (this.runs?.list().some((s) => s.alive) ?? false);
  }

  dispose(): void {
    for (const job of this.jobs.values()) job.dispose();
    for (const tail of this.tails.values()) tail.dispose();
    for (const d of this.disposables) d.dispose();
    this.jobs.clear();
    this.emitter.dispose();
  }
}
