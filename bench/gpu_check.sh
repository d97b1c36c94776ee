#!/usr/bin/env bash
# The prepared GPU check, one call on a machine with an NVIDIA GPU: SPEX's golden parity and
# precision on CUDA, its speed at full size, then the onnx backend on onnxruntime's CUDA
# provider (needs onnxruntime-gpu; without it that part fails and says so).
#
#   bash bench/gpu_check.sh            # about 5 minutes; logs under $OUT or .cache/gpu
#
# The repository root is imported as `spex` through a link, so nothing needs installing.
# Exit status 1 when any check fails; each check's output is in gpu_check.log.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/.cache/gpu}
mkdir -p "$out"
links=$(mktemp -d)
ln -s "$root" "$links/spex"
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$links" PYTHONUNBUFFERED=1
# onnxruntime-gpu opens cuBLAS and cuDNN by name: let it find the ones PyTorch's wheels ship.
nvidia_libs=$(python3 -c 'import glob, os, site
dirs = {os.path.dirname(p) for s in site.getsitepackages()
        for p in glob.glob(s + "/nvidia/**/lib*.so*", recursive=True)}
print(":".join(sorted(dirs)))')
export LD_LIBRARY_PATH="${nvidia_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$root" || exit 1
status=0
check() {
    echo "== $*" | tee -a "$out/gpu_check.log"
    "$@" 2>&1 | tee -a "$out/gpu_check.log"
    if [ "${PIPESTATUS[0]}" != 0 ]; then
        status=1
        echo "== FAILED: $*" | tee -a "$out/gpu_check.log"
    fi
}
check nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
check python3 -c 'import sys, torch, transformers, onnxruntime, rasterio
print(sys.version.split()[0], "torch", torch.__version__, "transformers", transformers.__version__,
      "onnxruntime", onnxruntime.__version__, onnxruntime.get_available_providers(),
      "rasterio", rasterio.__version__, "gdal", rasterio.__gdal_version__)'
check python3 bench/spex_fidelity.py --device cuda
check python3 bench/gpu_spex.py --tiles 4 --new-tokens 64
check python3 bench/gpu_onnx.py --size "${GPU_ONNX_SIZE:-2048}" --no-write
exit $status
