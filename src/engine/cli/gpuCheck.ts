// `fast-advprop gpu-check`: which WebGPU adapter this machine gives the engine, and whether every
// training kernel and pass computes there what the cpu backend computes. It runs the unit suite's
// checks (bench/gpuChecks.ts) from the bundle, so a GPU machine without node_modules can run them.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { adapterLabel } from '../../shared/backendLabel';
import { selectBackend } from '../backend/select';
import { releaseWebGpu } from '../backend/webgpu';
import { KERNEL_TOLERANCE, runGpuChecks, type GpuCheckRow } from '../bench/gpuChecks';
import { writeFileAtomic } from '../run/atomic';
import { formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import type { CliIo } from './io';

export const GPU_CHECK_FLAGS: Record<string, FlagSpec> = {
  software: { type: 'bool', help: 'accept a software adapter (Mesa llvmpipe): proves the path on a machine without a GPU' },
  'adapter-only': { type: 'bool', help: 'only report the adapter, skip the kernel and pass checks' },
  json: { type: 'bool', help: 'print the report as JSON' },
  out: { type: 'string', metavar: 'FILE', help: 'also write the JSON report to FILE' },
  help: { type: 'bool', help: 'show this help' },
};

export const GPU_CHECK_USAGE = `usage: fast-advprop gpu-check [--software] [--adapter-only] [--json] [--out FILE]

Finds the WebGPU adapter (a hardware one unless --software) and checks every training kernel and
pass on it against the cpu backend (max|webgpu - cpu| / max|cpu| <= ${KERNEL_TOLERANCE}).
Exit status: 0 all checks pass, 1 a check failed or no adapter, 2 usage error.

${formatFlags(GPU_CHECK_FLAGS)}`;

export async function gpuCheckCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  try {
    ({ flags } = parseFlags('gpu-check', argv, GPU_CHECK_FLAGS));
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    io.out(GPU_CHECK_USAGE);
    return 0;
  }
  const say = (s: string): void => {
    if (!flags.json) io.out(s);
  };
  const report: Record<string, unknown> = { measuredAt: new Date().toISOString(), tolerance: KERNEL_TOLERANCE };
  const finish = (code: number): number => {
    report.ok = code === 0;
    if (flags.json) io.out(JSON.stringify(report, null, 2));
    if (typeof flags.out === 'string') writeFileAtomic(path.resolve(flags.out), `${JSON.stringify(report, null, 2)}\n`);
    return code;
  };
  const previous = tf.getBackend() ?? 'cpu';
  try {
    // An explicit request also accepts Mesa's software adapter; whether that counts is decided here.
    const info = await selectBackend('webgpu');
    const a = info.adapter!;
    Object.assign(report, { adapter: a, label: adapterLabel(a), software: a.software, reason: info.reason });
    say(`adapter: ${adapterLabel(a)} via ${a.api} (vendor "${a.vendor}", architecture "${a.architecture}", device "${a.device}", description "${a.description}")${a.software ? ', a software adapter' : ''}`);
    if (a.software && !flags.software) {
      report.error = `only a software adapter (${adapterLabel(a)}): no hardware adapter reachable through Vulkan (pass --software to check on it anyway)`;
      io.err(`error: ${report.error}`);
      return finish(1);
    }
    if (flags['adapter-only']) return finish(0);
    const rows: GpuCheckRow[] = await runGpuChecks((r) => say(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.check}: ${r.difference.toExponential(2)}`));
    const failed = rows.filter((r) => !r.ok);
    Object.assign(report, { checks: rows, passed: rows.length - failed.length, failed: failed.length });
    say(`${rows.length - failed.length} of ${rows.length} checks within ${KERNEL_TOLERANCE} of the cpu backend on ${adapterLabel(a)}`);
    if (failed.length) io.err(`error: ${failed.length} check(s) differ from the cpu backend: ${failed.map((r) => r.check).join('; ')}`);
    return finish(failed.length ? 1 : 0);
  } catch (e) {
    report.error = (e as Error).message.split('\n')[0];
    io.err(`error: ${report.error}`);
    return finish(1);
  } finally {
    // Dawn keeps the process alive while the device exists.
    releaseWebGpu();
    await tf.setBackend(previous === 'webgpu' ? 'cpu' : previous).catch(() => undefined);
  }
}
