#!/usr/bin/env python3
"""`brine optimize` and `brine dis` against `pickletools.optimize` / `pickletools.dis`, one run.

Usage (from the repo root):  python3 bench/cli_compare.py [--rounds N]

Inputs: pyperformance's bm_pickle_opt data (`{i: f"ii{i:>07}" for i in range(1, 1_000_000)}`,
protocol 4, ~17 MB) for optimize, and the ~10 MB pyperformance mix of bench/compare.py for dis.
pickletools runs in-process (its output to a StringIO for dis); brine runs as the release
binary with its output to a file, process start included. Both outputs are checked equal.
Times are medians over alternating rounds; ratio = pickletools time / brine time.
"""
import io
import os
import pickle
import pickletools
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the pyperformance workloads)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main():
    rounds = 3
    if "--rounds" in sys.argv:
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "brine-cli"], cwd=root, check=True)
    exe = os.path.join(root, "target", "release", "brine")
    tmp = tempfile.mkdtemp(prefix="brine-cli-bench-")

    opt_in = os.path.join(tmp, "bm_pickle_opt.pickle")
    data = pickle.dumps({i: f"ii{i:>07}" for i in range(1, 1_000_000)}, 4)
    with open(opt_in, "wb") as f:
        f.write(data)
    dis_in = os.path.join(tmp, "mix.pickle")
    mix = pickle.dumps(compare.workloads(False)["mix_10mb"], 4)
    with open(dis_in, "wb") as f:
        f.write(mix)
    opt_out = os.path.join(tmp, "optimized.pickle")
    dis_out = os.path.join(tmp, "dis.txt")

    py_opt, br_opt, py_dis, br_dis = [], [], [], []
    for r in range(rounds):
        t, expected_opt = timed(lambda: pickletools.optimize(data))
        py_opt.append(t)
        t, _ = timed(lambda: subprocess.run([exe, "optimize", opt_in, opt_out], check=True))
        br_opt.append(t)
        with open(opt_out, "rb") as f:
            assert f.read() == expected_opt, "optimize output differs"

        def py_dis_run():
            buf = io.StringIO()
            pickletools.dis(mix, buf)
            return buf.getvalue()
        t, expected_dis = timed(py_dis_run)
        py_dis.append(t)
        t, _ = timed(lambda: subprocess.run([exe, "dis", dis_in, "-o", dis_out], check=True))
        br_dis.append(t)
        with open(dis_out, encoding="utf-8") as f:
            assert f.read() == expected_dis, "dis output differs"
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)

    med = statistics.median
    print(f"python {sys.version.split()[0]}; {rounds} alternating rounds; medians; outputs identical\n")
    print("| task | input | pickletools | brine | ratio |")
    print("|---|---:|---:|---:|---:|")
    print(f"| optimize (bm_pickle_opt) | {len(data):,} B | {med(py_opt):.2f} s | {med(br_opt):.3f} s"
          f" | {med(py_opt) / med(br_opt):.0f}× |")
    print(f"| dis (pyperformance mix) | {len(mix):,} B | {med(py_dis):.2f} s | {med(br_dis):.3f} s"
          f" | {med(py_dis) / med(br_dis):.0f}× |")


if __name__ == "__main__":
    main()
