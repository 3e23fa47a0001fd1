#!/usr/bin/env python3
"""Throughput of brine against CPython's C pickle, measured in one run.

Usage (from the repo root):  python3 bench/compare.py [--quick]

Builds the workloads with this python3 (pyperformance's bm_pickle data at its exact
definition, replicated by deep copy to a ~6 MB mix; 100k small-dict records), times CPython
`pickle.loads` / `pickle.dumps` in-process (gc disabled while timing, median of 7), runs
brine's timing example on the same files, and prints medians and ratios (brine speed-up over
CPython: > 1 means brine is faster).
"""
import copy
import datetime
import gc
import json
import os
import pickle
import random
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
    mix = [copy.deepcopy(x) for _ in range(target // unit_size + 1) for x in unit]
    n = 10_000 if quick else 100_000
    records = [{'id': i, 'name': f'user{i}', 'email': f'user{i}@example.com',
                'score': i * 0.5, 'active': i % 2 == 0, 'tags': ['a', 'b']} for i in range(n)]
    return {
        "pyperf_unpickle_unit": (DICT, TUPLE, DICT_GROUP),
        "pyperf_list": LIST,
        "pyperf_micro_dict": MICRO_DICT,
        "mix_10mb": mix,
        "records_100k": records,
    }


def median_secs(fn):
    fn()
    reps = 1
    while True:
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - t > 0.05 or reps >= 1 << 20:
            break
        reps *= 2
    samples = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        samples.append((time.perf_counter() - t) / reps)
    samples.sort()
    return samples[3]


def main():
    quick = "--quick" in sys.argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tmp = tempfile.mkdtemp(prefix="brine-bench-")
    cpy = {}
    files = []
    for name, value in workloads(quick).items():
        data = pickle.dumps(value, 4)
        path = os.path.join(tmp, name + ".pickle")
        with open(path, "wb") as f:
            f.write(data)
        files.append(path)
        gc.disable()
        try:
            loads = median_secs(lambda: pickle.loads(data))
            dumps = median_secs(lambda: pickle.dumps(value, 4))
        finally:
            gc.enable()
        cpy[path] = (name, len(data), loads, dumps)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "brine", "--example", "bench_compare"],
                   cwd=root, check=True)
    exe = os.path.join(root, "target", "release", "examples", "bench_compare")
    out = subprocess.run([exe] + files, check=True, capture_output=True, text=True).stdout
    print(f"python {sys.version.split()[0]}, protocol 4, medians of 7; ratio = CPython time / brine time")
    print(f"{'workload':24} {'bytes':>10} {'cpy loads':>10} {'brine dec':>10} {'ratio':>6}"
          f" {'cpy dumps':>10} {'brine enc':>10} {'ratio':>6}  identical")
    for line in out.splitlines():
        r = json.loads(line)
        name, size, loads, dumps = cpy[r["file"]]
        print(f"{name:24} {size:>10} {loads*1e6:>8.1f}us {r['decode']*1e6:>8.1f}us {loads/r['decode']:>6.2f}"
              f" {dumps*1e6:>8.1f}us {r['encode']*1e6:>8.1f}us {dumps/r['encode']:>6.2f}  {r['identical']}")


if __name__ == "__main__":
    main()
