#!/usr/bin/env python3
"""Throughput of brine against CPython's C pickle, measured in one run.

Usage (from the repo root):
    python3 bench/compare.py [--quick] [--typed] [--rounds N] [--write DIR] [--preload LIB]

Builds the workloads with this python3 — pyperformance's bm_pickle data at its exact definition
(the DICT/TUPLE/DICT_GROUP unit, LIST, MICRO_DICT, and a ~10 MB mix of deep copies of them),
100k small-dict records, 200k strings, 1M ints, 1M floats, 256 MB of bytes as one object and as
1,000 x 256 KB, and 1,000 dicts shared 100x each — and, in N alternating rounds (default 5),
times CPython `pickle.loads` / `pickle.dumps` in-process (gc disabled while timing, median of 7
batches) and brine's timing programs on the same files: graph decode and encode, decode of a
memory-mapped file, serde-pickle's decode and encode of its own value type
(`examples/bench_compare.rs`), and typed (serde) decode / encode into Rust types with
serde-pickle's typed decode beside it (`examples/bench_typed.rs`, and again with mimalloc as the
global allocator: `examples/bench_typed_mimalloc.rs`), both into the std types (owned text,
SipHash maps) and into lean ones (borrowed text, Fx-hashed maps). Prints Markdown tables of
medians over rounds and ratios (CPython time / brine time: > 1 means brine is faster), and
each graph decode's peak memory growth over the pickle's size (one process per file).
`--quick` shrinks every workload about 10x.

`--preload LIB` runs brine's timing programs (only them) with `LD_PRELOAD=LIB`, e.g. jemalloc,
to see how much of brine's time is the system allocator's (typed decode into owned Rust
values is mostly small allocations; CPython has its own small-object allocator).

`--typed` only times the typed workloads (CPython against `examples/bench_typed.rs`) and prints
only the typed table: a few minutes instead of the full run.

`--write DIR` only writes the workload pickles to DIR (for `cargo bench -p brine --bench
typed`, which reads them from `BRINE_BENCH_DIR`).
"""
import copy
import datetime
import gc
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time

# --- pyperformance bm_pickle data, verbatim -------------------------------------------------
DICT = {
    'ads_flags': 0, 'age': 18, 'birthday': datetime.date(1980, 5, 7), 'bulletin_count': 0,
    'comment_count': 0, 'country': 'BR', 'encrypted_id': 'G9urXXAJwjE', 'favorite_count': 9,
    'first_name': '', 'flags': 412317970704, 'friend_count': 0, 'gender': 'm',
    'gender_for_display': 'Male', 'id': 302935349, 'is_custom_profile_icon': 0, 'last_name': '',
    'locale_preference': 'pt_BR', 'member': 0, 'tags': ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    'profile_foo_id': 827119638, 'secure_encrypted_id': 'Z_xxx2dYx3t4YAdnmfgyKw',
    'session_number': 2, 'signup_id': '201-19225-223', 'status': 'A', 'theme': 1,
    'time_created': 1225237014, 'time_updated': 1233134493, 'unread_message_count': 0,
    'user_group': '0', 'username': 'collinwinter', 'play_count': 9, 'view_count': 7, 'zip': ''}
TUPLE = (
    [265867233, 265868503, 265252341, 265243910, 265879514,
     266219766, 266021701, 265843726, 265592821, 265246784,
     265853180, 45526486, 265463699, 265848143, 265863062,
     265392591, 265877490, 265823665, 265828884, 265753032], 60)


def mutate_dict(orig_dict, random_source):
    new_dict = dict(orig_dict)
    for key, value in new_dict.items():
        rand_val = random_source.random() * sys.maxsize
        if isinstance(key, (int, bytes, str)):
            new_dict[key] = type(key)(rand_val)
    return new_dict


random_source = random.Random(5)
DICT_GROUP = [mutate_dict(DICT, random_source) for _ in range(3)]
LIST = [[list(range(10)), list(range(10))] for _ in range(10)]
MICRO_DICT = dict((key, dict.fromkeys(range(10))) for key in range(100))
# ---------------------------------------------------------------------------------------------


def workloads(quick):
    unit = [DICT, TUPLE, DICT_GROUP, LIST, MICRO_DICT]
    unit_size = sum(len(pickle.dumps(x, 4)) for x in unit)
    target = (1 if quick else 10) * 1024 * 1024
    copies = target // unit_size + 1
    # Deep copies share their strings (str is immutable), which the memo then shortens: size
    # the mix by its real pickle.
    probe = len(pickle.dumps([copy.deepcopy(x) for _ in range(copies) for x in unit], 4))
    copies = copies * target // probe + 1
    mix = [copy.deepcopy(x) for _ in range(copies) for x in unit]
    n = 10_000 if quick else 100_000
    records = [{'id': i, 'name': f'user{i}', 'email': f'user{i}@example.com',
                'score': i * 0.5, 'active': i % 2 == 0, 'tags': ['a', 'b']} for i in range(n)]
    big = (16 if quick else 256) * 1024 * 1024
    scale = 10 if quick else 1
    shared_dicts = [{'id': i, 'name': f'item{i}', 'tags': ['x', 'y'], 'score': i / 3}
                    for i in range(1000)]
    return {
        "pyperf_unpickle_unit": (DICT, TUPLE, DICT_GROUP),
        "pyperf_list": LIST,
        "pyperf_micro_dict": MICRO_DICT,
        "mix_10mb": mix,
        "records_100k": records,
        "strings_200k": [f"string number {i} {'x' * (i % 40)}" for i in range(200_000 // scale)],
        "ints_1m": [(i * 7919) % 2_000_003 - 1_000_000 for i in range(1_000_000 // scale)],
        "floats_1m": [i * 0.37 for i in range(1_000_000 // scale)],
        "bytes_256mb": bytes(range(256)) * (big // 256),
        "bytes_1000x256kb": [bytes([i % 256]) * (big // 1000) for i in range(1000)],
        "shared_dicts_1000x100": [shared_dicts[i % 1000] for i in range(100_000)],
    }


def median_secs(fn, samples=7):
    fn()
    reps = 1
    while True:
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - t > 0.05 or reps >= 1 << 20:
            break
        reps *= 2
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t) / reps)
    return statistics.median(times)


def time_cpython(work):
    """One round of CPython timings: {path: (loads, dumps)}."""
    out = {}
    gc.disable()
    try:
        for path, (value, data) in work.items():
            out[path] = (median_secs(lambda: pickle.loads(data)),
                         median_secs(lambda: pickle.dumps(value, 4)))
    finally:
        gc.enable()
    return out


def time_brine(exe, paths, env):
    """One round of one of brine's timing programs: {path: fields}."""
    out = {}
    res = subprocess.run([exe] + paths, check=True, capture_output=True, text=True, env=env).stdout
    for line in res.splitlines():
        r = json.loads(line)
        out[r["file"]] = r
    return out


def fmt(secs):
    if secs < 1e-6:
        return f"{secs * 1e9:.0f} ns"
    if secs >= 1e-3:
        return f"{secs * 1e3:.2f} ms"
    return f"{secs * 1e6:.1f} µs"


def main():
    quick = "--quick" in sys.argv
    rounds = 5
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if "--write" in sys.argv:
        out = sys.argv[sys.argv.index("--write") + 1]
        os.makedirs(out, exist_ok=True)
        for name, value in workloads(quick).items():
            with open(os.path.join(out, name + ".pickle"), "wb") as f:
                f.write(pickle.dumps(value, 4))
        return
    typed_only = "--typed" in sys.argv
    typed_names = ("pyperf_unpickle_unit", "pyperf_list", "pyperf_micro_dict", "mix_10mb",
                   "records_100k", "strings_200k", "ints_1m", "floats_1m")
    tmp = tempfile.mkdtemp(prefix="brine-bench-")
    work = {}
    names = {}
    for name, value in workloads(quick).items():
        if typed_only and name not in typed_names:
            continue
        data = pickle.dumps(value, 4)
        path = os.path.join(tmp, name + ".pickle")
        with open(path, "wb") as f:
            f.write(data)
        work[path] = (value, data)
        names[path] = name
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "brine", "--example", "bench_compare",
                    "--example", "bench_typed", "--example", "bench_typed_mimalloc"], cwd=root,
                   check=True)
    env = dict(os.environ)
    if "--preload" in sys.argv:
        env["LD_PRELOAD"] = sys.argv[sys.argv.index("--preload") + 1]
    exe = os.path.join(root, "target", "release", "examples", "bench_compare")
    typed_exe = os.path.join(root, "target", "release", "examples", "bench_typed")
    typed_mi_exe = os.path.join(root, "target", "release", "examples", "bench_typed_mimalloc")
    paths = list(work)
    # CPython and brine take turns, round after round, so that load from other processes on a
    # shared machine falls on both sides alike; each round's ratio is CPython / brine.
    cpy_rounds, brine_rounds, typed_rounds, typed_mi_rounds = [], [], [], []
    for r in range(rounds):
        cpy_rounds.append(time_cpython(work))
        if not typed_only:
            brine_rounds.append(time_brine(exe, paths, env))
        typed_rounds.append(time_brine(typed_exe, paths, env))
        typed_mi_rounds.append(time_brine(typed_mi_exe, paths, env))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    if not typed_only:
        graph_table(exe, env, paths, work, names, rounds, cpy_rounds, brine_rounds)
        print()
    typed_table(paths, names, cpy_rounds, typed_rounds, typed_mi_rounds)


def graph_table(exe, env, paths, work, names, rounds, cpy_rounds, brine_rounds):
    med = statistics.median

    def rng(rs):
        return f"{med(rs):.2f}× [{min(rs):.2f}–{max(rs):.2f}]"

    def cell(xs):
        xs = [x for x in xs if x is not None]
        return fmt(med(xs)) if xs else "fails"

    peaks = {}
    for path in paths:
        # One process per file: the peak only grows within a process.
        res = subprocess.run([exe, "--peak", path], check=True, capture_output=True, text=True,
                             env=env)
        peaks[path] = json.loads(res.stdout)["graph_peak"]
    print(f"python {sys.version.split()[0]} C pickle vs brine (graph) and serde-pickle 1.x, protocol 4"
          f" files; {rounds} alternating rounds, each a median of 7 batches; times are medians over"
          f" rounds; ratio = CPython time / brine time, median over rounds [min–max]\n")
    print("| workload | bytes | CPython loads | brine decode | ratio | brine mmap decode | serde-pickle decode"
          " | CPython dumps | brine encode | ratio | serde-pickle encode | graph peak / size | identical |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---|")
    for path in paths:
        size = len(work[path][1])
        loads = [c[path][0] for c in cpy_rounds]
        dumps = [c[path][1] for c in cpy_rounds]
        dec = [b[path]["decode"] for b in brine_rounds]
        enc = [b[path]["encode"] for b in brine_rounds]
        mapped = [b[path]["mapped"] for b in brine_rounds]
        spd = [b[path]["sp_decode"] for b in brine_rounds]
        spe = [b[path]["sp_encode"] for b in brine_rounds]
        rdec = [c / b for c, b in zip(loads, dec)]
        renc = [c / b for c, b in zip(dumps, enc)]
        same = all(b[path]["identical"] for b in brine_rounds)
        print(f"| {names[path]} | {size:,} | {fmt(med(loads))} | {fmt(med(dec))} | {rng(rdec)}"
              f" | {fmt(med(mapped))} | {cell(spd)} | {fmt(med(dumps))} | {fmt(med(enc))} | {rng(renc)}"
              f" | {cell(spe)} | {peaks[path] / size:.2f} | {same} |")


def typed_table(paths, names, cpy_rounds, typed_rounds, typed_mi_rounds):
    med = statistics.median

    def rng(rs):
        return f"{med(rs):.2f}× [{min(rs):.2f}–{max(rs):.2f}]" if rs else "fails"

    def cell(xs):
        xs = [x for x in xs if x is not None]
        return fmt(med(xs)) if xs else "fails"

    def vs(num, den):
        return [a / b for a, b in zip(num, den) if a is not None and b is not None]

    print("Typed (serde) decode into Rust types and encode from them (`examples/bench_typed.rs`,"
          " and `examples/bench_typed_mimalloc.rs`: the same program with mimalloc as the global"
          " allocator). The std types own their text and use std's SipHash maps; serde-pickle"
          " decodes the same type in the same process. Ratios are CPython or serde-pickle time /"
          " brine time, medians over rounds [min–max]\n")
    print("| workload | CPython loads | typed decode | vs CPython | serde-pickle | vs serde-pickle"
          " | typed decode, mimalloc | vs CPython | serde-pickle, mimalloc | vs serde-pickle"
          " | CPython dumps | typed encode | ratio |")
    print("|---|---:|---:|---|---:|---|---:|---|---:|---|---:|---:|---|")
    for path in paths:
        if path not in typed_rounds[0]:
            continue
        loads = [c[path][0] for c in cpy_rounds]
        dumps = [c[path][1] for c in cpy_rounds]
        dec = [t[path]["decode"] for t in typed_rounds]
        sp = [t[path].get("sp_decode") for t in typed_rounds]
        mdec = [t[path]["decode"] for t in typed_mi_rounds]
        msp = [t[path].get("sp_decode") for t in typed_mi_rounds]
        enc = [t[path]["encode"] for t in typed_rounds]
        print(f"| {names[path]} | {fmt(med(loads))} | {fmt(med(dec))} | {rng(vs(loads, dec))}"
              f" | {cell(sp)} | {rng(vs(sp, dec))} | {fmt(med(mdec))} | {rng(vs(loads, mdec))}"
              f" | {cell(msp)} | {rng(vs(msp, mdec))} | {fmt(med(dumps))} | {fmt(med(enc))}"
              f" | {rng(vs(dumps, enc))} |")
    print()
    print("Lean types (`benches/workloads/mod.rs`): text borrowed from the input (`&str`, zero-copy)"
          " and maps with the Fx hasher (CPython's `hash(int)` is the int itself, and it hashes a str"
          " once per object); the"
          " std type where there is nothing to borrow or hash. serde-pickle cannot lend its input,"
          " so it fails the borrowed types\n")
    print("| workload | CPython loads | lean decode | vs CPython | serde-pickle | vs serde-pickle"
          " | lean decode, mimalloc | vs CPython | serde-pickle, mimalloc | vs serde-pickle |")
    print("|---|---:|---:|---|---:|---|---:|---|---:|---|")
    for path in paths:
        if path not in typed_rounds[0]:
            continue
        loads = [c[path][0] for c in cpy_rounds]
        dec = [t[path]["decode_lean"] for t in typed_rounds]
        sp = [t[path].get("sp_decode_lean") for t in typed_rounds]
        mdec = [t[path]["decode_lean"] for t in typed_mi_rounds]
        msp = [t[path].get("sp_decode_lean") for t in typed_mi_rounds]
        print(f"| {names[path]} | {fmt(med(loads))} | {fmt(med(dec))} | {rng(vs(loads, dec))}"
              f" | {cell(sp)} | {rng(vs(sp, dec))} | {fmt(med(mdec))} | {rng(vs(loads, mdec))}"
              f" | {cell(msp)} | {rng(vs(msp, mdec))} |")

    print()
    floor_table(paths, names, cpy_rounds, typed_rounds)


def floor_table(paths, names, cpy_rounds, typed_rounds):
    """What building each Rust type costs, whatever reads the pickle: the floor is the time to
    deserialize the same values from a tape of serde events (`benches/workloads/tape.rs`: no
    parsing, exact size hints, text lent), so CPython or serde-pickle time / floor is the best
    ratio any decoder into that type could reach. Only the pyperformance workloads have one
    (see `floor` in `examples/bench_typed.rs`); the last rows add up the three of them, the
    objects the mix repeats."""
    med = statistics.median

    def rng(rs):
        return f"{med(rs):.2f}× [{min(rs):.2f}–{max(rs):.2f}]" if rs else "fails"

    def vs(num, den):
        return [a / b for a, b in zip(num, den) if a is not None and b is not None]

    def total(xs):
        return None if any(x is None for x in xs) else sum(xs)

    print("The floor of each type (system allocator): the same values deserialized from a tape of"
          " serde events (`benches/workloads/tape.rs`), which parses nothing, gives exact size hints"
          " and lends its text. No decoder into that type does less work, so CPython or serde-pickle"
          " time / floor is the best ratio any reader of these pickles into these types could reach;"
          " brine / floor is what brine's reading adds. The last two rows add up the unit, LIST and"
          " MICRO_DICT, the objects the mix repeats (a large workload's tape outweighs its pickle,"
          " so it has no floor of its own)\n")
    print("| workload | types | floor | brine decode | brine / floor | CPython loads | best possible"
          " vs CPython | serde-pickle | best possible vs serde-pickle |")
    print("|---|---|---:|---:|---|---:|---|---:|---|")
    parts = [p for p in paths if p in typed_rounds[0] and typed_rounds[0][p].get("floor") is not None]
    rows = []
    for types, dk, sk, fk in (("std", "decode", "sp_decode", "floor"),
                              ("lean", "decode_lean", "sp_decode_lean", "floor_lean")):
        for path in parts:
            rows.append((names[path], types,
                         [c[path][0] for c in cpy_rounds],
                         [t[path][fk] for t in typed_rounds],
                         [t[path][dk] for t in typed_rounds],
                         [t[path].get(sk) for t in typed_rounds]))
        if len(parts) == 3:
            rows.append(("unit + LIST + MICRO_DICT", types,
                         [sum(c[p][0] for p in parts) for c in cpy_rounds],
                         [sum(t[p][fk] for p in parts) for t in typed_rounds],
                         [sum(t[p][dk] for p in parts) for t in typed_rounds],
                         [total([t[p].get(sk) for p in parts]) for t in typed_rounds]))
    for name, types, loads, floor, dec, sp in rows:
        spc = [x for x in sp if x is not None]
        print(f"| {name} | {types} | {fmt(med(floor))} | {fmt(med(dec))}"
              f" | {rng(vs(dec, floor))} | {fmt(med(loads))} | {rng(vs(loads, floor))}"
              f" | {fmt(med(spc)) if spc else 'fails'} | {rng(vs(sp, floor))} |")

if __name__ == "__main__":
    main()
