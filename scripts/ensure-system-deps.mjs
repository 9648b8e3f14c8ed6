#!/usr/bin/env node
// The VS Code test stages need a few Debian packages: Chromium (the browser that drives the
// workbench) and the toolchain code-server's postinstall builds native modules with. A newcomer's
// `npm test` should not stop at "install chromium first", so when we are root on Debian and
// something is missing we install it with apt (the only package source besides npm that these
// machines reach). Anyone else gets the exact command to run. Exit 0 = all present.
import { execFileSync, spawnSync } from 'node:child_process';

// libegl1 + libegl-mesa0 + libgl1-mesa-dri: Mesa's software GPU (llvmpipe) behind EGL, which the
// WebGPU backend's tests run on through Dawn's OpenGL backend where the machine has no GPU.
export const TEST_APT_PACKAGES = ['chromium', 'fonts-liberation', 'libkrb5-dev', 'libsecret-1-dev', 'pkg-config', 'build-essential', 'python3', 'ripgrep', 'libegl1', 'libegl-mesa0', 'libgl1-mesa-dri'];

// A one-node Slurm cluster for the sweep tests (test/unit/sweep/slurm.test.ts starts and stops it
// by pid itself; installing does not start anything: Debian's postinst needs systemd for that).
export const SLURM_APT_PACKAGES = ['slurmctld', 'slurmd', 'slurm-client', 'munge'];

function installed(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().includes('install ok installed');
  } catch {
    return false;
  }
}

/** `extra`: packages beyond the test stages' own (CI adds the full Fashion-MNIST). */
export function ensureSystemDeps(log = console.log, extra = [], packages = TEST_APT_PACKAGES, why = 'needed by the VS Code test stages') {
  if (process.platform !== 'linux' || spawnSync('dpkg-query', ['--version']).status !== 0) {
    log(`system deps: not a Debian-like system; install ${packages === SLURM_APT_PACKAGES ? 'Slurm (slurmctld, slurmd, client) and munge' : 'Chromium (or set CHROMIUM_PATH)'} yourself`);
    return true;
  }
  const missing = [...packages, ...extra].filter((p) => !installed(p));
  if (missing.length === 0) return true;
  const cmd = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    log(`system deps missing: ${missing.join(', ')}\n  run: sudo sh -c '${cmd}'`);
    return false;
  }
  log(`system deps: installing ${missing.join(', ')} with apt (${why})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      log(`system deps: apt-get ${args[0]} failed (exit ${r.status}); run it by hand: ${cmd}`);
      return false;
    }
  }
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureSystemDeps(console.log, process.argv.slice(2)) ? 0 : 1);
