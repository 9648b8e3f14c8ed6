// The batch script one `sbatch --array` runs for every point of a sweep. Each array task picks its
// point by SLURM_ARRAY_TASK_ID and runs the engine CLI on the node: a new run, or `--resume` when
// the folder already holds a checkpoint (a requeued job), or `--restart` when it was killed before
// its first one. Nothing here kills the engine: on SIGTERM (scancel) and on the USR1 that
// `--signal=B:USR1@N` sends before the time limit it writes the run's stop.request, which the
// engine honours by finishing the step and checkpointing. Slurm may also SIGTERM the engine
// itself; that is the same graceful stop (a second signal would mean "exit now", so the script
// never forwards one). After USR1 the job requeues itself, and the next start resumes.

import { shellQuote } from '../../../shared/shellQuote';
import { UsageError } from '../../util/flags';
import type { SlurmSettings } from '../manifest';

export interface ScriptPoint {
  runDir: string;
  config: string;
}

export interface ScriptInput {
  name: string;
  /** Command sweeps: each CONFIGS entry is the point's shell script, run instead of our engine. */
  command?: boolean;
  /** Absolute sweep folder (on the filesystem the nodes share). */
  sweepDir: string;
  cli: string;
  points: readonly ScriptPoint[];
  settings: SlurmSettings;
  /** Run `evaluate --run "$RUN_DIR" <these>` after training, in the same job (study's robustness). */
  evaluate?: readonly string[];
}

export const DEFAULT_SLURM: SlurmSettings = { gpus: 0, cpus: 1, extra: [], setup: [], signalSeconds: 120, maxParallel: 0, node: 'node' };

const SAFE_VALUE = /^[A-Za-z0-9_.:,=@%+\/-]+$/;

/** A value that lands on a `#SBATCH` line must be one word: Slurm parses that line itself, no shell. */
function word(v: string, field: string): string {
  if (!SAFE_VALUE.test(v)) throw new UsageError(field, `must be one word of letters, digits and _.:,=@%+/- (got ${JSON.stringify(v).slice(0, 60)})`);
  return v;
}

function oneLine(v: string, field: string): string {
  if (/[\r\n\0]/.test(v)) throw new UsageError(field, 'must be a single line');
  return v;
}

/** Checks the settings once, before anything is written (the same checks generate() relies on). */
export function checkSlurmSettings(s: SlurmSettings): void {
  if (s.partition !== undefined) word(s.partition, '--partition');
  if (s.account !== undefined) word(s.account, '--account');
  if (s.time !== undefined && !/^(\d+-)?\d+(:\d+){0,2}$/.test(s.time)) throw new UsageError('--time', `must be a Slurm time such as 30, 04:00:00 or 1-12:00:00, got ${JSON.stringify(s.time)}`);
  if (!Number.isInteger(s.gpus) || s.gpus < 0 || s.gpus > 64) throw new UsageError('--gpus', 'must be a whole number from 0 to 64');
  if (!Number.isInteger(s.cpus) || s.cpus < 1 || s.cpus > 1024) throw new UsageError('--cpus', 'must be a whole number from 1 to 1024');
  if (!Number.isInteger(s.signalSeconds) || s.signalSeconds < 1 || s.signalSeconds > 65535) throw new UsageError('--signal-seconds', 'must be 1 to 65535 seconds');
  if (!Number.isInteger(s.maxParallel) || s.maxParallel < 0) throw new UsageError('--max-parallel', 'must be a whole number ≥ 0 (0 = no limit)');
  for (const l of s.extra) {
    oneLine(l, '--sbatch');
    if (!l.trim().startsWith('--')) throw new UsageError('--sbatch', `each extra line is an sbatch option such as --qos=high, got ${JSON.stringify(l).slice(0, 60)}`);
  }
  for (const l of s.setup) oneLine(l, '--setup');
  if (s.prefix !== undefined) oneLine(s.prefix, '--prefix');
  oneLine(s.node, '--node');
}

/** Our engine: new run, --resume after a requeue, --restart before a first checkpoint; graceful stop through stop.request. */
function engineBody(node: string): string {
  return `# A task that runs again after its run completed (a requeue after the end, a node failure on exit) has nothing to do.
if grep -Eq '"state": ?"completed"' "$RUN_DIR/status.json" 2>/dev/null; then echo "$RUN_DIR already completed"; exit 0; fi
${trainBody(node)}`;
}

function trainBody(node: string): string {
  return `if [ -f "$RUN_DIR/checkpoints/last.ckpt" ]; then MODE=(--resume "$RUN_DIR")
elif [ -f "$RUN_DIR/config.json" ]; then MODE=(--restart "$RUN_DIR")
else MODE=(--config "\${CONFIGS[$i]}" --run-dir "$RUN_DIR"); fi

requeue=0
trap 'requeue=1; : > "$RUN_DIR/stop.request"' USR1
trap ': > "$RUN_DIR/stop.request"' TERM INT
${node} train "\${MODE[@]}" &
pid=$!
# wait returns early whenever a trapped signal arrives; keep waiting until the engine has exited.
while :; do wait "$pid"; rc=$?; kill -0 "$pid" 2>/dev/null || break; done
if [ "$requeue" = 1 ]; then
  echo "time limit near: checkpointed, requeueing job $SLURM_JOB_ID"
  scontrol requeue "$SLURM_JOB_ID" && exit 0
fi
mkdir -p "$SWEEP/points" && echo $rc > "$SWEEP/points/$i.exit"
`;
}

/**
 * Train, then evaluate the run in the same job, on the node and resources that trained it (a study
 * on Slurm: the login node only submits and reads). Train as engineBody; a completed run (the job
 * requeued during its evaluation) skips to the evaluation. The evaluation's output and a header
 * naming this job go to slurm/evaluate-<i>.log, its exit code to points/<i>.evaluate-exit (absent
 * while it has not ended, so a requeued one runs again). scancel and the pre-limit USR1 send it one
 * TERM; after USR1 the job requeues itself. The job exits non-zero when the evaluation failed, but
 * the run folder (completed) and points/<i>.exit (train's 0) keep the training's result.
 */
function trainEvaluateBody(node: string, args: readonly string[]): string {
  return `# A task that runs again after its run completed (requeued while it evaluated) only evaluates.
if grep -Eq '"state": ?"completed"' "$RUN_DIR/status.json" 2>/dev/null; then echo "$RUN_DIR already completed"; rc=0; requeue=0
else
${trainBody(node)}fi
# Only a completed run: a run stopped by scancel also exits 0.
if [ "$rc" = 0 ] && grep -Eq '"state": ?"completed"' "$RUN_DIR/status.json" 2>/dev/null && [ ! -f "$SWEEP/points/$i.evaluate-exit" ]; then
  EVAL_LOG="$SWEEP/slurm/evaluate-$i.log"
  echo "evaluate $RUN_DIR in job \${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}_\${SLURM_ARRAY_TASK_ID:-0} (\${SLURM_JOB_ID}) on $(hostname -s), restart \${SLURM_RESTART_COUNT:-0}, $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$EVAL_LOG"
  epid=
  trap 'requeue=1; [ -n "$epid" ] && kill -TERM "$epid"' USR1
  trap '[ -n "$epid" ] && kill -TERM "$epid"' TERM INT
  ${node} evaluate --run "$RUN_DIR" ${args.map((a) => shellQuote(a)).join(' ')} >> "$EVAL_LOG" 2>&1 &
  epid=$!
  while :; do wait "$epid"; erc=$?; kill -0 "$epid" 2>/dev/null || break; done
  # Stopped for the time limit: evaluate again after the requeue (no exit code recorded yet).
  if [ "$requeue" = 1 ] && [ "$erc" != 0 ]; then
    echo "time limit near: evaluation stopped, requeueing job $SLURM_JOB_ID" | tee -a "$EVAL_LOG"
    scontrol requeue "$SLURM_JOB_ID" && exit 0
  fi
  mkdir -p "$SWEEP/points" && echo $erc > "$SWEEP/points/$i.evaluate-exit"
  rc=$erc
fi
`;
}

/**
 * Someone else's command: run as it is; scancel and the pre-limit USR1 forward one SIGTERM to it
 * (whether it checkpoints then is up to that code); its exit code goes to points/<i>.exit.
 */
const commandBody = (prefix: string): string => `mkdir -p "$RUN_DIR" "$SWEEP/points" && : > "$SWEEP/points/$i.started"
requeue=0
pid=
trap 'requeue=1; [ -n "$pid" ] && kill -TERM "$pid"' USR1
trap '[ -n "$pid" ] && kill -TERM "$pid"' TERM INT
${prefix}sh "\${CONFIGS[$i]}" &
pid=$!
while :; do wait "$pid"; rc=$?; kill -0 "$pid" 2>/dev/null || break; done
if [ "$requeue" = 1 ]; then
  echo "time limit near: requeueing job $SLURM_JOB_ID"
  scontrol requeue "$SLURM_JOB_ID" && exit 0
fi
echo $rc > "$SWEEP/points/$i.exit"
`;

export function batchScript(input: ScriptInput): string {
  const s = input.settings;
  if (input.command && input.evaluate) throw new UsageError('evaluate', 'a command sweep runs someone else\'s code, which our evaluate cannot read; evaluate its runs separately');
  checkSlurmSettings(s);
  const q = shellQuote;
  const sb: string[] = [`--job-name=${word(`fa-${input.name}`.slice(0, 60).replace(/[^A-Za-z0-9_.-]/g, '-'), 'name')}`];
  if (s.partition) sb.push(`--partition=${s.partition}`);
  if (s.account) sb.push(`--account=${s.account}`);
  if (s.time) sb.push(`--time=${s.time}`);
  if (s.gpus > 0) sb.push(`--gres=gpu:${s.gpus}`);
  sb.push(`--cpus-per-task=${s.cpus}`, '--ntasks=1', '--requeue', `--signal=B:USR1@${s.signalSeconds}`, '--open-mode=append');
  sb.push(...s.extra.map((l) => l.trim()));
  const list = (xs: readonly string[]): string => xs.map((x) => `  ${q(x)}`).join('\n');
  const node = `${s.prefix ? `${s.prefix} ` : ''}${q(s.node)} ${q(input.cli)}`;
  return `#!/bin/bash
# Generated by fast-advprop sweep for ${input.points.length} points; see docs/cluster.md.
${sb.map((l) => `#SBATCH ${l}`).join('\n')}

SWEEP=${q(input.sweepDir)}
RUNS=(
${list(input.points.map((p) => p.runDir))}
)
CONFIGS=(
${list(input.points.map((p) => p.config))}
)
i=\${SLURM_ARRAY_TASK_ID:?run through sbatch --array}
RUN_DIR=\${RUNS[$i]}
# When this task started on its node (for the submit-to-RUNNING figure); one line per (re)start.
echo "\${SLURM_RESTART_COUNT:-0} $(date +%s.%N) \${SLURM_JOB_ID} $(hostname -s)" >> "$SWEEP/slurm/started-$i"
${s.setup.join('\n')}
${input.command ? commandBody(s.prefix ? `${s.prefix} ` : '') : input.evaluate ? trainEvaluateBody(node, input.evaluate) : engineBody(node)}exit $rc
`;
}
