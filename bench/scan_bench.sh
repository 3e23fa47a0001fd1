#!/bin/sh
# Scan benchmark: throughput and peak RSS on a ~50 MB / 15 M-opcode benign pickle, and the
# time to scan a 1 GiB torch zip. Usage: bench/scan_bench.sh [BRINE_BIN] [WORKDIR]
set -e
BIN=${1:-target/release/brine}
DIR=${2:-/tmp/brine-bench}
[ -f "$DIR/big.pkl" ] && [ -f "$DIR/big_dicts_nomemo.pkl" ] && [ -f "$DIR/big_torch.pt" ] || python3 "$(dirname "$0")/gen_big.py" "$DIR" >/dev/null
ls -l "$DIR/big.pkl" "$DIR/big_torch.pt"
"$BIN" scan --format json "$DIR/big.pkl" | python3 -c 'import json,sys; f=json.load(sys.stdin)["files"][0]; print("verdict", f["verdict"], "opcodes", f["opcodes"], "bytes", f["bytes_scanned"])'
for i in 1 2 3 4 5; do /usr/bin/time -f "big.pkl: %e s elapsed, %U s user, %S s sys, %M KB peak RSS" "$BIN" scan "$DIR/big.pkl" >/dev/null; done
for f in big_dicts big_dicts_nomemo; do
  ls -l "$DIR/$f.pkl"
  /usr/bin/time -f "$f.pkl: %e s elapsed, %U s user, %S s sys, %M KB peak RSS" "$BIN" scan "$DIR/$f.pkl" >/dev/null
done
"$BIN" scan "$DIR/big_torch.pt"
for i in 1 2 3; do /usr/bin/time -f "big_torch.pt (1 GiB): %e s elapsed, %M KB peak RSS" "$BIN" scan "$DIR/big_torch.pt" >/dev/null; done
# picklescan on the same big.pkl, same run (skipped, visibly, when it is not installed).
if python3 -c 'import picklescan' 2>/dev/null; then
  /usr/bin/time -f "picklescan big.pkl: %e s elapsed, %U s user, %M KB peak RSS" python3 -c '
import sys; from picklescan.scanner import scan_file_path
r = scan_file_path(sys.argv[1]); print("picklescan: infected", r.infected_files, "errors", r.scan_err)' "$DIR/big.pkl"
else
  echo "picklescan not installed: pip install picklescan to time it in the same run"
fi
