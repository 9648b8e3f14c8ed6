// A real one-node Slurm 22.05 for the sweep tests, started and stopped by this process (by pid,
// nothing left running), after ../shared/slurm-recipe: munged, slurmctld and slurmd without
// systemd. Its configuration, state and logs live in a temp folder and reach the Slurm commands
// through SLURM_CONF, so the machine's /etc/slurm is never touched. munged uses the system socket
// (/run/munge) and key; a munged already running is reused and left alone.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Cluster {
  dir: string;
  conf: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

const BINARIES = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/bin/squeue', '/usr/bin/scancel', '/usr/bin/scontrol'];

/** Why a cluster cannot be had here, or undefined when it can. */
export function clusterUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Slurm tests need Linux';
  const missing = BINARIES.filter((b) => !fs.existsSync(b));
  if (missing.length) return `Slurm is not installed (missing ${missing.join(', ')}); as root run: apt-get install -y slurmctld slurmd slurm-client munge (npm test does it when root)`;
  if (process.getuid?.() !== 0) return 'the test cluster runs its daemons as root; run the Slurm tests as root';
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pidOf(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function waitGone(pid: number, ms: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** CPUs declared for the node: 4 on any machine (config_overrides), so a 4-point array runs at once. */
export const CLUSTER_CPUS = 4;

/** `dir`: a fixed folder (emptied first) when the config path must be known in advance (the UI scenario). */
export async function startCluster(opts: { dir?: string } = {}): Promise<Cluster> {
  if (opts.dir) {
    fs.rmSync(opts.dir, { recursive: true, force: true });
    fs.mkdirSync(opts.dir, { recursive: true });
  }
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fa-slurm-'));
  const host = os.hostname().split('.')[0];
  const conf = path.join(dir, 'slurm.conf');
  for (const d of ['ctld', 'd', 'log']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(conf, [
    'ClusterName=fatest', `SlurmctldHost=${host}`, 'SlurmUser=root', 'AuthType=auth/munge', 'MpiDefault=none', 'MailProg=/bin/true',
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none',
    `JobCompType=jobcomp/filetxt`, `JobCompLoc=${dir}/log/jobcomp.log`, 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core', 'ReturnToService=2',
    'SchedulerParameters=batch_sched_delay=0,sched_interval=1', 'SlurmdParameters=config_overrides', 'KillWait=10', 'MinJobAge=600',
    // A requeued job waits cred_expire seconds before it may start again (default 120).
    'AuthInfo=cred_expire=5',
    // Ports away from the defaults, so a cluster someone runs on this machine is not disturbed.
    'SlurmctldPort=16817', 'SlurmdPort=16818',
    `StateSaveLocation=${dir}/ctld`, `SlurmdSpoolDir=${dir}/d`, `SlurmctldPidFile=${dir}/slurmctld.pid`, `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/log/slurmctld.log`, `SlurmdLogFile=${dir}/log/slurmd.log`,
    `NodeName=${host} CPUs=${CLUSTER_CPUS} Sockets=1 CoresPerSocket=${CLUSTER_CPUS} ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN`,
    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n'));
  const env = { ...process.env, SLURM_CONF: conf };
  let ourMunged: number | undefined;
  const mungePid = '/run/munge/munged.pid';
  if (!pidOf(mungePid)) {
    fs.mkdirSync('/run/munge', { recursive: true });
    execFileSync('chown', ['munge:munge', '/run/munge']);
    fs.chmodSync('/run/munge', 0o755);
    if (!fs.existsSync('/etc/munge/munge.key') || fs.statSync('/etc/munge/munge.key').size === 0) execFileSync('runuser', ['-u', 'munge', '--', '/usr/sbin/mungekey']);
    execFileSync('runuser', ['-u', 'munge', '--', '/usr/sbin/munged']);
    ourMunged = pidOf(mungePid);
  }
  execFileSync('/usr/sbin/slurmctld', ['-f', conf], { env });
  execFileSync('/usr/sbin/slurmd', ['-f', conf], { env });
  const ctld = pidOf(path.join(dir, 'slurmctld.pid'));
  const sld = pidOf(path.join(dir, 'slurmd.pid'));
  const stop = async (): Promise<void> => {
    spawnSync('scancel', ['--full', '--user=root'], { env });
    const t0 = Date.now();
    while (Date.now() - t0 < 20000) {
      const q = spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' });
      const steps = spawnSync('pgrep', ['-x', 'slurmstepd']).status === 0;
      if ((q.status !== 0 || q.stdout.trim() === '') && !steps) break;
      await sleep(100);
    }
    for (const pid of [sld ?? pidOf(path.join(dir, 'slurmd.pid')), ctld ?? pidOf(path.join(dir, 'slurmctld.pid')), ourMunged]) {
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      await waitGone(pid, 10000);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    const r = spawnSync('sinfo', ['-h', '-N', '-o', '%t'], { env, encoding: 'utf8' });
    if (/^(idle|mix|alloc)/.test(r.stdout.trim())) break;
    if (Date.now() - t0 > 30000) {
      const log = (f: string): string => { try { return fs.readFileSync(path.join(dir, 'log', f), 'utf8').slice(-1500); } catch { return ''; } };
      await stop();
      throw new Error(`the test Slurm node did not become idle in 30 s (sinfo: ${r.stdout.trim() || r.stderr.trim()})\nslurmctld.log: ${log('slurmctld.log')}\nslurmd.log: ${log('slurmd.log')}`);
    }
    await sleep(200);
  }
  return { dir, conf, env, stop };
}
