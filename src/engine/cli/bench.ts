import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBench, WEBGPU_BATCHES } from '../bench';
import { writeFileAtomic } from '../run/atomic';
import { formatFlags, parseFlags, type FlagSpec } from '../util/flags';
import type { CliIo } from './io';

export const BENCH_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'bool', help: 'print the report as JSON' },
  quick: { type: 'bool', help: 'fewer timed steps (noisier figures), for smoke tests' },
  profile: { type: 'bool', help: 'also profile one wasm step kernel by kernel (where the time goes)' },
  kernels: { type: 'bool', help: 'also time our wasm conv kernels against the stock paths (and the native ones at 4/8/16 lanes where they load), per ResNet-20 layer shape' },
  'webgpu-software': { type: 'bool', help: 'time the webgpu rows on a software adapter (Mesa llvmpipe) too; by default they need a hardware GPU' },
  'webgpu-batches': { type: 'string', metavar: 'LIST', help: `batches of the webgpu-1@<batch> rows, comma-separated (default ${WEBGPU_BATCHES.join(',')})` },
  'cpu-batches': { type: 'string', metavar: 'LIST', help: 'batches of the wasm rows, comma-separated (default 64; rows at other batches are keyed wasm-<workers>@<batch>, each with its PyTorch peer)' },
  'full-loader': { type: 'bool', help: 'the loader rows at full size even with --quick (512 JPEGs, two epochs timed: per-core figures worth quoting)' },
  'gpu-only': { type: 'bool', help: 'only the webgpu rows (skips the cpu, wasm and native rows, which take minutes on a many-core host)' },
  'peer-python': { type: 'string', metavar: 'PATH', help: 'the python3 whose PyTorch times the same step for each wasm row (default: python3 on PATH; none importable: one line says so)' },
  'no-peer': { type: 'bool', help: 'skip the PyTorch peer' },
  out: { type: 'string', metavar: 'FILE', help: 'also write the JSON report (trainImagesPerSecond keyed <backend>-<workers>, …) to FILE' },
  help: { type: 'bool', help: 'show this help' },
};

export const BENCH_USAGE = `usage: fast-advprop bench [--json] [--quick] [--profile] [--kernels] [--webgpu-software] [--webgpu-batches LIST] [--cpu-batches LIST] [--full-loader] [--gpu-only] [--peer-python PATH | --no-peer] [--out FILE]

Measures training throughput of each available backend and worker count on this machine, and on a
WebGPU hardware adapter at batch ${WEBGPU_BATCHES.join(', ')} (rows webgpu-1@<batch>); then the same
step in PyTorch eager for each wasm row, where a python3 imports torch (ours/PyTorch per row).

${formatFlags(BENCH_FLAGS)}`;

export async function benchCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let flags;
  try {
    ({ flags } = parseFlags('bench', argv, BENCH_FLAGS));
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    io.out(BENCH_USAGE);
    return 0;
  }
  const out = typeof flags.out === 'string' ? path.resolve(flags.out) : undefined;
  if (out !== undefined && !dirExists(path.dirname(out))) {
    io.err(`error: --out: the folder ${path.dirname(out)} does not exist; create it or name a file in an existing folder`);
    return 2;
  }
  if (out !== undefined && dirExists(out)) {
    io.err(`error: --out: ${out} is a folder; name a file, e.g. ${path.join(out, 'bench-report.json')}`);
    return 2;
  }
  let webgpuBatches: number[] | undefined;
  if (typeof flags['webgpu-batches'] === 'string') {
    webgpuBatches = flags['webgpu-batches'].split(',').map((t) => Number(t.trim()));
    if (!webgpuBatches.length || webgpuBatches.some((b) => !Number.isInteger(b) || b < 2)) {
      io.err(`error: --webgpu-batches: expected comma-separated integers ≥ 2 (e.g. ${WEBGPU_BATCHES.join(',')}), got ${JSON.stringify(flags['webgpu-batches'])}`);
      return 2;
    }
  }
  let cpuBatches: number[] | undefined;
  if (typeof flags['cpu-batches'] === 'string') {
    cpuBatches = [...new Set(flags['cpu-batches'].split(',').map((t) => Number(t.trim())))];
    if (!cpuBatches.length || cpuBatches.some((b) => !Number.isInteger(b) || b < 2 || b > 4096)) {
      io.err(`error: --cpu-batches: expected comma-separated integers from 2 to 4096 (e.g. 64,256), got ${JSON.stringify(flags['cpu-batches'])}`);
      return 2;
    }
  }
  const report = await runBench({
    json: Boolean(flags.json), quick: Boolean(flags.quick), profile: Boolean(flags.profile), kernels: Boolean(flags.kernels),
    webgpuSoftware: Boolean(flags['webgpu-software']), webgpuBatches, cpuBatches, gpuOnly: Boolean(flags['gpu-only']), fullLoader: Boolean(flags['full-loader']),
    peerPython: flags['no-peer'] ? false : typeof flags['peer-python'] === 'string' ? flags['peer-python'] : undefined,
  }, (s) => io.out(s.replace(/\n$/, '')));
  if (out !== undefined) {
    writeFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`);
    if (!flags.json) io.out(`wrote ${out}`);
  }
  return 0;
}

function dirExists(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
