#!/bin/bash
# Assembles .gpucheck/ (git-ignored) on the development machine: everything scripts/gpu-check.sh
# needs on a lent NVIDIA machine that has no network and maybe no node or node_modules. Only the
# working tree and carried paths travel there, so the bundle, the Vulkan loader, the PyTorch peer
# and a node binary go in one folder, under the 64 MiB a carried path may take.
# Usage: bash scripts/prepare-gpu-check.sh   (then, there: LOG_DIR=$OUT bash .gpucheck/gpu-check.sh)
# Knobs: GPU_CHECK_NO_NODE=1 leaves out node.xz (when the GPU machine is known to have node ≥ 20);
#        PEER_BENCH=path of torch_resnet20.py (default ../shared/peer-bench/ next to the repo).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
D="$ROOT/.gpucheck"
PEER="${PEER_BENCH:-$ROOT/../shared/peer-bench/torch_resnet20.py}"
LIMIT_MIB=64

die() { echo "prepare-gpu-check: $*" >&2; exit 1; }
[ -f "$PEER" ] || die "no $PEER (the PyTorch peer); set PEER_BENCH to its path"
grep -qx '.gpucheck/' "$ROOT/.gitignore" || die ".gpucheck/ is not in .gitignore: add it (the folder must never be committed)"

echo "== build (dist/ with this platform's dawn.node)"
(cd "$ROOT" && node scripts/build.mjs)
[ -f "$ROOT/dist/dawn/linux-x64/dawn.node" ] || die "dist/dawn/linux-x64/dawn.node missing: the optional npm package webgpu is not installed"

rm -rf "$D"; mkdir -p "$D"
echo "== dist.tar.gz (cli.js, worker.js, loaderWorker.js, wasm, dawn.node; the native kernels and JPEG addon where they built; sharp; the embedded dataset the default job trains on; the CPU bench's PyTorch peer script)"
# Source maps, the extension host and the webviews are not needed to train; gzip takes dawn.node
# from 21.5 MB to ~7 MB.
# The streaming loader's decode thread and sharp (with its libvips) let step 7's bench time the
# 224 px loader rows on that machine's cores too (issue #14's per-core figure).
tar -czf "$D/dist.tar.gz" -C "$ROOT" dist/cli.js dist/worker.js dist/loaderWorker.js dist/dawn/linux-x64/dawn.node \
  $(cd "$ROOT" && ls dist/*.wasm; [ -d dist/native ] && echo dist/native; [ -d dist/node_modules ] && echo dist/node_modules) media/datasets media/peer
cp "$ROOT/scripts/gpu-check.sh" "$ROOT/scripts/gpu-check-summary.mjs" "$PEER" "$D/"

echo "== libvulkan1 (the Vulkan loader; the NVIDIA ICD comes with the driver there)"
# apt-get download needs a current package list; it needs no root and installs nothing here.
apt-get update -qq || echo "apt-get update failed: using the package lists already here"
(cd "$D" && apt-get download libvulkan1) || die "apt-get download libvulkan1 failed"

if [ "${GPU_CHECK_NO_NODE:-0}" != 1 ]; then
  echo "== node.xz ($(node --version); used there only if it has no node ≥ 20)"
  xz -T0 -c "$(command -v node)" > "$D/node.xz"
fi

git -C "$ROOT" rev-parse --short HEAD > "$D/commit"
ls -la "$D"
total=$(du -sm "$D" | cut -f1)
[ "$total" -lt "$LIMIT_MIB" ] || die ".gpucheck/ is ${total} MiB, over the ${LIMIT_MIB} MiB a carried path may take (GPU_CHECK_NO_NODE=1 leaves out node.xz)"
echo "== .gpucheck/ ready: ${total} MiB, commit $(cat "$D/commit"). On the GPU machine, from the repo root (carry .gpucheck):"
echo "   LOG_DIR=\$OUT bash .gpucheck/gpu-check.sh"
