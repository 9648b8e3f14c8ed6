#!/bin/bash
# The whole GPU check in one call of at most ~9 minutes on a lent NVIDIA machine (no network):
# system facts, the Vulkan loader, the WebGPU adapter, every training kernel and pass against the
# cpu backend on it, the bench's webgpu rows, PyTorch eager on the same GPU at the same batches,
# the default training job, and the CPU bench with PyTorch's CPU peer on all cores. Assemble .gpucheck/ first (scripts/prepare-gpu-check.sh), then
# from the repo root there:   LOG_DIR=$OUT bash .gpucheck/gpu-check.sh
# Writes ${LOG_DIR:-/tmp}/gpu-check.log (everything printed), gpu-check-summary.{json,md} and the
# JSON of each step. Each step has its own timeout (SIGKILL 5 s after SIGTERM); they add up to
# 562 s plus a few seconds of unpacking, so one 600 s call holds even if every step runs long.
# Knobs: GPU_CHECK_SOFTWARE=1 runs on Mesa's software adapter and skips the NVIDIA-only steps (a
# dry run on a machine without a GPU: short bench, 3-step job, PyTorch on the CPU if present);
# TORCH_SECS (default 2) timed seconds per PyTorch memory format (plus its fixed 5 s warm-up; 10 s
# would not fit the call: 4 batches × 2 formats × 15 s);
# GPU_CHECK_WORK (default /tmp/fap-gpucheck) where the bundle is unpacked.
set -o pipefail
SRC="$(cd "$(dirname "$0")" && pwd)"
LOG_DIR="${LOG_DIR:-/tmp}"; mkdir -p "$LOG_DIR"; LOG_DIR="$(cd "$LOG_DIR" && pwd)"
exec > >(tee "$LOG_DIR/gpu-check.log") 2>&1
SOFT="${GPU_CHECK_SOFTWARE:-0}"
W="${GPU_CHECK_WORK:-/tmp/fap-gpucheck}"
TORCH_SECS="${TORCH_SECS:-2}"
BATCHES=(64 128 256 512)
T0=$(date +%s)
step() { echo; echo "== $1 (t=$(( $(date +%s) - T0 )) s)"; }
# One line per step outcome for the summary: name<TAB>status<TAB>detail.
note() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$LOG_DIR/gpu-check-steps.tsv"; }
rm -f "$LOG_DIR/gpu-check-steps.tsv" "$LOG_DIR"/torch-*.txt
# Step timeouts (s). The software adapter is ~1,000× slower than a GPU; its dry run is not held
# to the 9-minute call, only kept short.
if [ "$SOFT" = 1 ]; then T_KERN=120; T_BENCH=90; T_TORCH=60; T_TRAIN=150; T_CPU=0; else T_KERN=45; T_BENCH=16; T_TORCH=22; T_TRAIN=75; T_CPU=290; fi

if [ "$SOFT" != 1 ] && ! command -v nvidia-smi >/dev/null && [ ! -d /usr/local/nvidia ]; then
  echo "gpu-check: no NVIDIA driver here (no nvidia-smi, no /usr/local/nvidia); on a machine without a GPU run it with GPU_CHECK_SOFTWARE=1"
  exit 2
fi
for f in dist.tar.gz gpu-check-summary.mjs torch_resnet20.py; do
  [ -f "$SRC/$f" ] || { echo "gpu-check: $SRC/$f missing: run scripts/prepare-gpu-check.sh on the development machine first"; exit 2; }
done
rm -rf "$W"; mkdir -p "$W"; tar -xzf "$SRC/dist.tar.gz" -C "$W" || { echo "gpu-check: could not unpack $SRC/dist.tar.gz"; exit 2; }
CLI="$W/dist/cli.js"
echo "gpu-check of commit $(cat "$SRC/commit" 2>/dev/null || echo unknown), $(date -u +%FT%TZ), mode: $([ "$SOFT" = 1 ] && echo 'software adapter (dry run)' || echo 'NVIDIA GPU')"

step "1. system"
if [ "$SOFT" != 1 ]; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$LOG_DIR/gpu.txt"; fi
ldd --version | head -1
grep -m1 'model name' /proc/cpuinfo; echo "cores: $(nproc)"
NODE="$(command -v node || true)"
if [ -z "$NODE" ] || ! "$NODE" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  [ -f "$SRC/node.xz" ] || { echo "gpu-check: no node >= 20 here and no .gpucheck/node.xz"; exit 2; }
  NODE="$W/node"
  xz -dc "$SRC/node.xz" > "$NODE" 2>/dev/null || python3 -c "import lzma,shutil;shutil.copyfileobj(lzma.open('$SRC/node.xz'),open('$NODE','wb'))"
  chmod +x "$NODE"; echo "node: carried binary"
fi
echo "node $("$NODE" --version) ($NODE)"; python3 --version 2>&1
note system ok "$(ldd --version | head -1 | grep -o '[0-9.]*$'); node $("$NODE" --version)"

step "2. Vulkan loader and the NVIDIA ICD"
if [ "$SOFT" = 1 ]; then
  echo "skipped (software mode: the engine reaches Mesa llvmpipe through Dawn's OpenGL backend)"; note vulkan skipped "software mode"
else
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    echo "unpacking $(basename "$SRC"/libvulkan1_*.deb) into /"; dpkg -x "$SRC"/libvulkan1_*.deb / && ldconfig
  fi
  ldconfig -p | grep libvulkan.so.1 || echo "still no libvulkan.so.1"
  export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
  ls -la "$VK_DRIVER_FILES" || echo "no ICD file at $VK_DRIVER_FILES"
  note vulkan "$(ldconfig -p | grep -q libvulkan.so.1 && echo ok || echo failed)" "VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi
ldd "$W/dist/dawn/linux-x64/dawn.node" | grep -E 'not found|libvulkan|libEGL' || true

SOFTFLAG=(); [ "$SOFT" = 1 ] && SOFTFLAG=(--software)
step "3. the WebGPU adapter, then every training kernel and pass on it against the cpu backend"
# The adapter line comes first, so it is in the log even if the checks run out of time.
timeout -k 5 $T_KERN "$NODE" "$CLI" gpu-check "${SOFTFLAG[@]}" --out "$LOG_DIR/gpu-check-kernels.json"; rc=$?
note kernels "$([ $rc = 0 ] && echo ok || echo "failed rc=$rc")" ""

step "4. bench: webgpu-1 rows"
# One process per batch: a batch that runs out of time loses only its own row, not the report.
if [ "$SOFT" = 1 ]; then BENCH=(--quick --webgpu-software); BB=(8); else BENCH=(); BB=("${BATCHES[@]}"); fi
rm -f "$LOG_DIR"/bench-webgpu-*.json; failed=""
for b in "${BB[@]}"; do
  timeout -k 5 $T_BENCH "$NODE" "$CLI" bench --gpu-only "${BENCH[@]}" --webgpu-batches "$b" --out "$LOG_DIR/bench-webgpu-$b.json" | grep -E 'webgpu|skipped'
  grep -qs "\"webgpu-1@$b\"" "$LOG_DIR/bench-webgpu-$b.json" || failed="$failed $b"
done
note bench "$([ -z "$failed" ] && echo ok || echo "no row for batch$failed")" ""

step "5. PyTorch eager, same ResNet-20 step, same batches"
if [ "$SOFT" = 1 ]; then TDEV=cpu; TB=(8); else TDEV=cuda; TB=("${BATCHES[@]}"); fi
if python3 -c 'import torch' 2>/dev/null; then
  for b in "${TB[@]}"; do
    # -u: a run cut by the timeout still leaves the lines it printed.
    timeout -k 5 $T_TORCH python3 -u "$SRC/torch_resnet20.py" 16 "$TORCH_SECS" "$b" "$TDEV" 2>&1 | tee "$LOG_DIR/torch-$b.txt" | grep -E 'images/s|Error'
  done
  note torch ok "$TDEV, ${TORCH_SECS} s per format"
else
  echo "skipped: python3 has no torch here"; note torch skipped "python3 has no torch"
fi

step "6. the default training job on webgpu"
# The default config (Fast AdvProp 4:1, ResNet-8 w16, embedded Fashion-MNIST subset). On llvmpipe
# it would take hours: the dry run takes 3 steps of batch 16 and evaluates 64 test images.
MAX=()
if [ "$SOFT" = 1 ]; then
  echo '{"batchSize": 16, "dataset": {"name": "fashion-mnist-subset", "testLimit": 64}}' > "$W/dry.advprop.json"
  MAX=(--max-steps 3 --config "$W/dry.advprop.json")
fi
rm -rf "$W/run"; s0=$(date +%s%3N)
timeout -k 5 $T_TRAIN "$NODE" "$CLI" train --backend webgpu --run-dir "$W/run" "${MAX[@]}"; rc=$?
wall=$("$NODE" -e "console.log(((Date.now() - $s0) / 1000).toFixed(1))")
for f in results config status; do cp "$W/run/$f.json" "$LOG_DIR/train-$f.json" 2>/dev/null; done
note train "$([ -f "$W/run/results.json" ] && echo ok || echo "failed rc=$rc")" "$wall"

step "7. CPU (issue #17): wasm rows for 1, 2, 4, 8 … workers up to the core count, PyTorch's CPU peer per row"
# The GPU machine's 16 cores are the only many-core CPU this project is lent: the scaling figures
# and ours/PyTorch at 16 threads, batch 64 and 256, come from here. --quick keeps it near three
# minutes; one webgpu batch only (the rows above have them all). --full-loader times the 224 px
# loader rows at full size (issue #14's images per core, on a faster core than the VM's; ~30 s).
if [ "$SOFT" = 1 ]; then echo "skipped in the dry run (the bench rows are tested by the unit suite)"; note cpu skipped "dry run"
else
  timeout -k 5 $T_CPU "$NODE" "$CLI" bench --quick --full-loader --webgpu-batches 64 --cpu-batches 64,256 --out "$LOG_DIR/bench-cpu.json" | grep -vE '^\s*$'; rc=${PIPESTATUS[0]}
  note cpu "$(grep -qs '"wasm-1"' "$LOG_DIR/bench-cpu.json" && echo ok || echo "failed rc=$rc")" "$(nproc) cores"
fi

step "8. summary"
"$NODE" "$SRC/gpu-check-summary.mjs" "$LOG_DIR" "$([ "$SOFT" = 1 ] && echo software || echo gpu)"
echo "gpu-check done in $(( $(date +%s) - T0 )) s; files in $LOG_DIR"
