// Reads what scripts/gpu-check.sh left in LOG_DIR and writes gpu-check-summary.json and .md: the
// adapter, the kernel checks, ours vs PyTorch eager per batch side by side, the default job, and
// the CPU rows (issue #17): scaling from 1 worker to every core, ours vs PyTorch's CPU peer.
// Usage: node gpu-check-summary.mjs LOG_DIR gpu|software. Plain node, no dependencies: it runs
// on the GPU machine from .gpucheck/.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, mode = 'gpu'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node gpu-check-summary.mjs LOG_DIR gpu|software');
  process.exit(2);
}
const json = (f) => {
  try {
    return JSON.parse(readFileSync(join(dir, f), 'utf8'));
  } catch {
    return null;
  }
};
const text = (f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
const fmt = (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');

const steps = Object.fromEntries(text('gpu-check-steps.tsv').split('\n').filter(Boolean).map((l) => {
  const [name, status, detail] = l.split('\t');
  return [name, { status, detail }];
}));
const kernels = json('gpu-check-kernels.json');
// One bench report per batch (gpu-check.sh runs them apart so a slow batch loses only its row).
const benches = readdirSync(dir).filter((f) => /^bench-webgpu-\d+\.json$/.test(f)).map(json).filter(Boolean);
const bench = benches.length ? { ...benches[0], rows: benches.flatMap((b) => b.rows), skipped: benches.flatMap((b) => b.skipped), gpuTarget: benches.find((b) => b.gpuTarget)?.gpuTarget } : null;
const adapter = kernels?.label ? kernels : bench?.webgpu?.label ? bench.webgpu : kernels;
const results = json('train-results.json');
const config = json('train-config.json');
const status = json('train-status.json');

// "torch 2.11.0 cuda channels_last threads=16 batch=256: 12345.6 images/s (…)"
const torch = {};
for (const f of ['8', '64', '128', '256', '512']) {
  for (const m of text(`torch-${f}.txt`).matchAll(/^torch (\S+) (\S+) (\S+) threads=\d+ batch=(\d+): ([\d.]+) images\/s/gm)) {
    (torch[m[4]] ??= { version: m[1], device: m[2] })[m[3]] = Number(m[5]);
  }
}

const rows = (bench?.rows ?? []).filter((r) => r.backend === 'webgpu').map((r) => {
  const t = torch[String(r.batch)];
  const best = t ? Math.max(t.nchw ?? 0, t.channels_last ?? 0) || null : null;
  return {
    batch: r.batch, imagesPerSecond: r.imagesPerSecond, gflops: r.gflops, adapter: r.adapter, software: r.software,
    torchNchw: t?.nchw ?? null, torchChannelsLast: t?.channels_last ?? null, oursOverTorch: best ? r.imagesPerSecond / best : null,
  };
});
// PyTorch batches without a row of ours (e.g. the bench timed out) still show.
for (const b of Object.keys(torch)) {
  if (!rows.some((r) => String(r.batch) === b)) rows.push({ batch: Number(b), imagesPerSecond: null, gflops: null, torchNchw: torch[b].nchw ?? null, torchChannelsLast: torch[b].channels_last ?? null, oursOverTorch: null });
}
rows.sort((a, b) => a.batch - b.batch);

// Step 7's bench: wasm rows 1, 2, 4 … workers; scaling = rate / (workers × the 1-worker rate).
const cpuBench = json('bench-cpu.json');
const wasmRows = (cpuBench?.rows ?? []).filter((r) => r.backend === 'wasm').sort((a, b) => a.batch - b.batch || a.workers - b.workers);
const oneWorker = (batch) => wasmRows.find((r) => r.workers === 1 && r.batch === batch)?.imagesPerSecond;
const cpu = cpuBench ? {
  cores: cpuBench.cores ?? null,
  cpu: cpuBench.machine?.cpu ?? null,
  torch: cpuBench.peer?.torch ?? null,
  peerSkipped: cpuBench.peer?.skipped ?? null,
  rows: wasmRows.map((r) => {
    const p = (cpuBench.peer?.rows ?? []).find((x) => x.key === r.key);
    const one = oneWorker(r.batch);
    return {
      workers: r.workers, batch: r.batch, imagesPerSecond: r.imagesPerSecond, fractionOfCeiling: r.fractionOfCeiling ?? null,
      scaling: one ? r.imagesPerSecond / (r.workers * one) : null,
      torchNchw: p?.nchw ?? null, torchChannelsLast: p?.channelsLast ?? null, oursOverTorch: p?.ratio ?? null,
    };
  }),
} : null;

// Step 7's 224 px loader rows (issue #14): images per CPU-second on that machine's cores, and the
// turbo rows' fraction of libjpeg-turbo's own crop decode there.
const loader = Array.isArray(cpuBench?.loader) ? cpuBench.loader.filter((r) => r.source !== 'arrays-32px').map((r) => ({
  key: r.key, threads: r.threads, images: r.images, imagesPerSecond: r.imagesPerSecond, perCpuSecond: r.perCpuSecond, fractionOfCropDecode: r.fractionOfCropDecode ?? null,
})) : null;

const trainWall = Number(steps.train?.detail);
const summary = {
  measuredAt: new Date().toISOString(),
  mode,
  gpu: text('gpu.txt').trim() || null,
  cpu: bench?.machine?.cpu ?? null,
  node: bench?.machine?.node ?? null,
  adapter: adapter?.label ?? null,
  software: adapter?.software ?? null,
  adapterError: adapter?.error ?? null,
  kernels: kernels ? { ok: kernels.ok, passed: kernels.passed ?? 0, failed: kernels.failed ?? 0, tolerance: kernels.tolerance, error: kernels.error ?? null, worst: Math.max(...(kernels.checks ?? []).map((c) => c.difference)) } : null,
  torch: Object.values(torch)[0] ? { version: Object.values(torch)[0].version, device: Object.values(torch)[0].device } : null,
  rows,
  benchSkipped: bench?.skipped ?? null,
  gpuTarget: bench?.gpuTarget ?? null,
  training: {
    status: steps.train?.status ?? 'not run',
    processWallSeconds: Number.isFinite(trainWall) ? trainWall : null,
    backend: config?.backend?.reason ?? null,
    maxSteps: config?.config?.maxSteps || null,
    // Where a run cut by the timeout got to (status.json), so "did not finish" says how far.
    progress: status?.progress ? { state: status.state, step: status.progress.step, totalSteps: status.progress.totalSteps } : null,
    ...(results ? { trainingWallSeconds: results.wallSeconds, testAccuracy: results.clean?.accuracy, steps: results.steps, epochs: results.epochs, imagesPerSecond: results.imagesPerSecond } : {}),
  },
  cpu,
  loader,
  steps,
};
writeFileSync(join(dir, 'gpu-check-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

const md = [];
md.push(`## GPU check, ${summary.measuredAt.slice(0, 10)} (${mode === 'software' ? 'dry run on a software adapter' : 'NVIDIA GPU'})`);
md.push('');
md.push(`- machine: ${summary.gpu ?? 'no NVIDIA GPU'}; CPU ${summary.cpu ?? '?'}; node ${summary.node ?? '?'}`);
// adapterLabel() already marks a software adapter "(software)".
md.push(`- adapter: ${summary.adapter ?? `none (${summary.adapterError ?? 'see the log'})`}`);
const k = summary.kernels;
md.push(`- kernels and passes vs cpu: ${k ? `${k.passed} of ${k.passed + k.failed} within ${k.tolerance} (worst ${fmt(k.worst === -Infinity ? NaN : k.worst, 9)})${k.error ? `; ${k.error}` : ''}` : 'not run'}`);
md.push(`- PyTorch: ${summary.torch ? `${summary.torch.version} eager on ${summary.torch.device}` : 'not run'}`);
md.push('');
md.push('| batch | ours (webgpu) images/s | GFLOP/s | PyTorch eager NCHW | PyTorch channels_last | ours / PyTorch (faster format) |');
md.push('|---|---|---|---|---|---|');
for (const r of rows) md.push(`| ${r.batch} | ${fmt(r.imagesPerSecond)} | ${fmt(r.gflops)} | ${fmt(r.torchNchw)} | ${fmt(r.torchChannelsLast)} | ${r.oursOverTorch === null ? '-' : `${fmt(r.oursOverTorch, 2)}×`} |`);
if (summary.gpuTarget) md.push(`\nGPU target (≥ ${summary.gpuTarget.imagesPerSecond} images/s at ${summary.gpuTarget.key}): ${summary.gpuTarget.met ? 'met' : 'not met'}`);
for (const s of summary.benchSkipped ?? []) md.push(`\nbench skipped ${s.key}: ${s.reason}`);
const t = summary.training;
md.push('');
md.push(`- default training job on webgpu${t.maxSteps ? ` (dry run: stopped after ${t.maxSteps} steps, small test set)` : ''}: ${t.status}; process ${fmt(t.processWallSeconds)} s, training ${fmt(t.trainingWallSeconds)} s, ${t.steps ?? '-'} steps, test accuracy ${typeof t.testAccuracy === 'number' ? `${fmt(100 * t.testAccuracy, 2)} %` : '-'}${!results && t.progress ? ` (reached step ${t.progress.step} of ${t.progress.totalSteps ?? '?'}, state ${t.progress.state})` : ''}`);
if (cpu) {
  md.push('');
  md.push(`CPU, ${cpu.cores ?? '?'} cores (${cpu.cpu ?? '?'}), ResNet-20 step on wasm; PyTorch ${cpu.torch ?? `not run${cpu.peerSkipped ? ` (${cpu.peerSkipped})` : ''}`} on the CPU at as many threads:`);
  md.push('');
  md.push('| workers | batch | ours images/s | of linear scaling from 1 | of the FMA ceiling | PyTorch NCHW | PyTorch channels-last | ours / PyTorch (faster format) |');
  md.push('|---|---|---|---|---|---|---|---|');
  for (const r of cpu.rows) md.push(`| ${r.workers} | ${r.batch} | ${fmt(r.imagesPerSecond)} | ${r.scaling === null ? '-' : `${fmt(100 * r.scaling, 0)} %`} | ${r.fractionOfCeiling === null ? '-' : `${fmt(100 * r.fractionOfCeiling, 0)} %`} | ${fmt(r.torchNchw)} | ${fmt(r.torchChannelsLast)} | ${r.oursOverTorch === null ? '-' : `${fmt(r.oursOverTorch, 2)}×`} |`);
}
if (loader?.length) {
  md.push('');
  md.push('Streaming loader at 224 px (the bench\'s 512 JPEGs, random-resized crop + flip); target ≥ 1,000 images/s per core:');
  md.push('');
  md.push('| row | threads | images/s | per CPU-second | of libjpeg-turbo\'s crop decode |');
  md.push('|---|---|---|---|---|');
  for (const r of loader) md.push(`| ${r.key} | ${r.threads} | ${fmt(r.imagesPerSecond)} | ${fmt(r.perCpuSecond)} | ${r.fractionOfCropDecode === null ? '-' : `${fmt(100 * r.fractionOfCropDecode, 0)} %`} |`);
}
md.push(`- steps: ${Object.entries(steps).map(([n, s]) => `${n} ${s.status}`).join(', ')}`);
writeFileSync(join(dir, 'gpu-check-summary.md'), `${md.join('\n')}\n`);
console.log(md.join('\n'));
