#!/bin/sh
# Times `brine convert big.pt big.safetensors` against torch.load + safetensors' save_file on
# a synthetic checkpoint of about 1.1 GB, with peak memory from /usr/bin/time -v.
#
#   cargo build --release -p brine-cli && sh bench/ml_convert.sh [WORKDIR]
#
# Needs python3 with torch and safetensors. The checkpoint is made once and kept in WORKDIR
# (default /tmp/brine-ml-bench); nothing is written into the repository.
set -eu
dir=${1:-/tmp/brine-ml-bench}
brine=${BRINE:-$(dirname "$0")/../target/release/brine}
mkdir -p "$dir"
if [ ! -f "$dir/big.pt" ]; then
    python3 - "$dir/big.pt" <<'PY'
import sys, torch
g = torch.Generator().manual_seed(0)
# 17 float32 matrices of 4096x4096 (64 MiB each) plus bf16/int64 tensors and a shared view:
# about 1.1 GB of storage.
sd = {f"layer{i}.weight": torch.randn(4096, 4096, generator=g) for i in range(17)}
sd["embed.bf16"] = torch.randn(1024, 1024, generator=g).bfloat16()
sd["steps"] = torch.arange(1000)
sd["tied"] = sd["layer0.weight"]  # shares layer0's storage: recorded as an alias
torch.save(sd, sys.argv[1])
PY
fi
ls -l "$dir/big.pt"
sync
echo "== brine"
/usr/bin/time -v "$brine" convert "$dir/big.pt" "$dir/brine.safetensors" 2>&1 |
    grep -E "Elapsed|Maximum resident|User time|System time|brine:"
# brine's writes are atomic and fsync'd; the Python side fsyncs too, for the same work.
echo "== python (torch.load + safetensors.torch.save_file + fsync)"
/usr/bin/time -v python3 -c "
import os, sys, torch
from safetensors.torch import save_file
sd = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
del sd['tied']
save_file({k: v.contiguous() for k, v in sd.items()}, sys.argv[2], metadata={'format': 'pt', 'tied': 'layer0.weight'})
fd = os.open(sys.argv[2], os.O_RDONLY); os.fsync(fd)
" "$dir/big.pt" "$dir/python.safetensors" 2>&1 | grep -E "Elapsed|Maximum resident|User time|System time|Error"
echo "== python import only (torch + safetensors), for reference"
/usr/bin/time -v python3 -c "import torch, safetensors.torch" 2>&1 | grep -E "Elapsed|Maximum resident"
python3 - "$dir/brine.safetensors" "$dir/python.safetensors" <<'PY'
import sys, torch
from safetensors.torch import load_file
a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "outputs differ"
print("outputs equal:", len(a), "tensors")
PY
