#!/usr/bin/env bash
# webgpu on a real GPU through Dawn's Vulkan backend, in one short run of bench/webgpu.ts:
# MobileNetV3-large forward 1x224 and 32x224, detector inference 1x320 and 1x800, and one detector
# training step at batch 8, 320 and 800. Prints the adapter and a markdown table.
#
# The GPU machine has no network and no node_modules, so it runs in two steps:
#   bash bench/gpu-device.sh prepare   # here: bundles the bench and the files it needs into
#                                      # .tmp/gpu (< 64 MB: node, Dawn for linux-x64, tfjs, the
#                                      # Vulkan loader), nothing else is needed on the GPU machine
#   bash bench/gpu-device.sh           # there, from the repository root, with .tmp/gpu copied along
# The run takes about a minute plus the shader compilation of each case; each case is time-limited
# (CASE_TIMEOUT, default 150 s). CASES=a,b picks cases; ADAPTER= (empty) lets torchport take any
# adapter, Mesa's software one included, which checks the bundle on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU=.tmp/gpu
CASES=${CASES:-mnv3l-forward-1x224,mnv3l-forward-32x224,frcnn-inference-1x320,frcnn-inference-1x800,frcnn-train-8x320,frcnn-train-8x800}

if [ "${1:-}" = prepare ]; then
  rm -rf "$GPU" && mkdir -p "$GPU/node_modules/@tensorflow" "$GPU/node_modules/webgpu"
  # The bench and torchport's sources in one file; tfjs stays a package (the webgpu backend and
  # tfjs-core's gradient modules are loaded by name at run time).
  node_modules/.bin/esbuild bench/webgpu.ts --bundle --platform=node --format=esm --target=node20 \
    --outfile="$GPU/bench.mjs" --external:@tensorflow/* --external:webgpu --log-level=warning \
    --banner:js="import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);"
  for pkg in tfjs-core tfjs-backend-cpu tfjs-backend-webgpu; do
    # Node's entry points and ES modules only: no source maps, tests or browser bundles.
    mkdir -p "$GPU/node_modules/@tensorflow/$pkg"
    (cd "node_modules/@tensorflow/$pkg" && find . -name '*.map' -prune -o -name '*_test.js' -prune -o -name '*.d.ts' -prune \
      -o -regex '.*/tf-[a-z-]*\.\(es2017\|fesm\|min\|es2017\.min\|fesm\.min\)\.js' -prune -o -regex '\./dist/tf-[a-z-]*\.js' -prune \
      -o -path ./src -prune -o -type f -print0 | xargs -0 cp --parents -t "$OLDPWD/$GPU/node_modules/@tensorflow/$pkg")
  done
  cp -r node_modules/seedrandom "$GPU/node_modules/"
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$GPU/node_modules/webgpu/"
  mkdir -p "$GPU/node_modules/webgpu/dist/linux-x64"
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$GPU/dawn.node.xz"
  xz -T2 -6 -c "$(command -v node)" > "$GPU/node.xz"
  (cd "$GPU" && apt-get download libvulkan1 >/dev/null 2>&1 && dpkg -x libvulkan1_*.deb vulkan && rm libvulkan1_*.deb) \
    || echo "note: could not fetch libvulkan1; the GPU machine must have the Vulkan loader"
  du -sh "$GPU"
  exit 0
fi

[ -f "$GPU/bench.mjs" ] || { echo "$GPU is missing: run 'bash bench/gpu-device.sh prepare' first and copy it along" >&2; exit 2; }
NODE=$(command -v node || true)
if [ -z "$NODE" ] || [ "$("$NODE" -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  xz -dc "$GPU/node.xz" > "$GPU/node" && chmod +x "$GPU/node" && NODE=$GPU/node
fi
[ -f "$GPU/node_modules/webgpu/dist/linux-x64/dawn.node" ] || xz -dc "$GPU/dawn.node.xz" > "$GPU/node_modules/webgpu/dist/linux-x64/dawn.node"
echo "node $("$NODE" --version); $(nvidia-smi -L 2>/dev/null | head -1 || echo 'no nvidia-smi')"
# Dawn dlopens the Vulkan loader; the NVIDIA driver's ICD may be installed without its manifest.
if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
  export LD_LIBRARY_PATH="$PWD/$GPU/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null || true)
if ! grep -qs nvidia <<<"$icds" && ldconfig -p | grep -q 'libGLX_nvidia\.so\.0 '; then
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}\n' > "$GPU/nvidia_icd.json"
  export VK_ICD_FILENAMES="$PWD/$GPU/nvidia_icd.json"
fi
echo "Vulkan ICDs: ${VK_ICD_FILENAMES:-${icds:-none found}}" | tr '\n' ' '; echo
for c in ${CASES//,/ }; do
  # One process per case: a case that fails or hangs leaves the others their time.
  timeout "${CASE_TIMEOUT:-150}" "$NODE" "$GPU/bench.mjs" ${ADAPTER---vulkan} --backends webgpu --rounds 1 --cases "$c" 2>&1 \
    | grep -v '^Warning: \|^ - While\|^    at \|^$' | { if [ "$c" = "${CASES%%,*}" ]; then cat; else grep '^| [a-z0-9]*-[a-z]'; fi; } \
    || echo "| $c | timed out or failed |"
done
