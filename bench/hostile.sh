#!/usr/bin/env bash
# Peak memory and time of decoding each hostile input (examples/hostile.rs), from the repo root.
set -euo pipefail
cargo build --release -q -p brine --example hostile
exe=target/release/examples/hostile
for c in $($exe); do
  out=$( { /usr/bin/time -v "$exe" "$c"; } 2>&1 )
  rss=$(echo "$out" | awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}')
  line=$(echo "$out" | grep "^$c:")
  printf '%-14s peak %7.1f MB  %s\n' "$c" "$(echo "$rss/1024" | bc -l)" "${line#*: }"
done
