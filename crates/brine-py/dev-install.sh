#!/usr/bin/env bash
# Developer loop: a debug build of the extension copied over an installed brine package
# (after one `pip install ./crates/brine-py`). CI uses pip install.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q -p brine-py --features extension-module ${1:-}
site=$(python3 -c "import brine, os; print(os.path.dirname(brine.__file__))")
prof=debug; [ "${1:-}" = "--release" ] && prof=release
cp "target/$prof/lib_brine.so" "$site/$(basename "$site"/_brine*.so)"
cp crates/brine-py/python/brine/*.py* "$site/" 2>/dev/null || true
