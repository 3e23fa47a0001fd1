#!/bin/sh
# `brine.tensors` against `torch.load(weights_only=True)` on the ~1.1 GB synthetic checkpoint
# of bench/ml_convert.sh, each in a fresh process: wall time and peak memory (/usr/bin/time -v),
# once just getting the tensors and once also reading every value (a sum over each tensor).
#
#   pip install ./crates/brine-py && sh bench/py_tensors.sh [WORKDIR]
#
# Needs python3 with numpy and torch (and the checkpoint, made by bench/ml_convert.sh).
set -eu
dir=${1:-/tmp/brine-ml-bench}
pt="$dir/big.pt"
[ -f "$pt" ] || { echo "no $pt: run bench/ml_convert.sh first" >&2; exit 2; }
ls -l "$pt"
run() {
    label=$1; shift
    /usr/bin/time -v python3 -c "$@" "$pt" 2>&1 |
        grep -E "^n=|Elapsed|Maximum resident" | sed "s/^/$label: /"
}
sync
run "import torch alone        " 'import sys, torch; print("n=0")'
run "import brine, numpy alone " 'import sys, brine, numpy; print("n=0")'
run "brine.tensors             " 'import sys, brine; t = brine.tensors(sys.argv[1]); print("n=%d" % len(t))'
run "torch.load(weights_only)  " 'import sys, torch; t = torch.load(sys.argv[1], weights_only=True); print("n=%d" % len(t))'
run "brine.tensors + read all  " 'import sys, brine; t = brine.tensors(sys.argv[1]); s = sum(float(v.sum(dtype="f8")) for v in t.values()); print("n=%d" % len(t))'
run "torch.load + read all     " 'import sys, torch; t = torch.load(sys.argv[1], weights_only=True); s = sum(float(v.sum(dtype=torch.float64)) for v in t.values()); print("n=%d" % len(t))'
