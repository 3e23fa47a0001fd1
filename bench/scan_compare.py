#!/usr/bin/env python3
"""Runs brine scan, picklescan and fickling on the same corpus and prints a confusion table
for each (label x verdict). Usage: bench/scan_compare.py [BRINE_BIN] [CORPUS_DIR]

Verdict mapping: brine SAFE/UNSAFE/INCONCLUSIVE as reported. picklescan (scan_file_path):
infected -> UNSAFE, scan error -> INCONCLUSIVE, else SAFE. fickling (is_likely_safe): True ->
SAFE, False -> UNSAFE, exception -> INCONCLUSIVE. "Detected" = not SAFE.
"""
import collections, json, os, subprocess, sys, time, warnings, io, contextlib, logging

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BRINE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'target/release/brine')
CORPUS = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, 'crates/brine-scan/tests/corpus')
man = json.load(open(os.path.join(CORPUS, 'manifest.json')))
files = sorted(man)


def brine():
    t = time.time()
    out = subprocess.run([BRINE, 'scan', '--format', 'json'] + [os.path.join(CORPUS, f) for f in files],
                         capture_output=True, text=True)
    rep = json.loads(out.stdout)
    by = {os.path.relpath(r['path'], CORPUS): r['verdict'] for r in rep['files']}
    return {f: by.get(f, 'INCONCLUSIVE') for f in files}, time.time() - t


def picklescan():
    from picklescan.scanner import scan_file_path
    logging.disable(logging.CRITICAL)
    res, t = {}, time.time()
    for f in files:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                r = scan_file_path(os.path.join(CORPUS, f))
            res[f] = 'UNSAFE' if r.infected_files > 0 else ('INCONCLUSIVE' if r.scan_err else 'SAFE')
        except Exception:
            res[f] = 'INCONCLUSIVE'
    return res, time.time() - t


def fickling():
    import fickling as fk
    res, t = {}, time.time()
    for f in files:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter('ignore')
                res[f] = 'SAFE' if fk.is_likely_safe(os.path.join(CORPUS, f)) else 'UNSAFE'
        except BaseException:
            res[f] = 'INCONCLUSIVE'
    return res, time.time() - t


def table(name, res, secs):
    c = collections.Counter((man[f]['label'], res[f]) for f in files)
    print(f'\n== {name} ({secs:.1f} s for {len(files)} files)')
    print(f"{'label':<10} {'SAFE':>6} {'UNSAFE':>8} {'INCONCL.':>9}   detected")
    for label in ('malicious', 'benign', 'review'):
        row = [c[(label, v)] for v in ('SAFE', 'UNSAFE', 'INCONCLUSIVE')]
        n = sum(row) or 1
        extra = f'{100 * (row[1] + row[2]) / n:5.1f}% not SAFE'
        print(f'{label:<10} {row[0]:>6} {row[1]:>8} {row[2]:>9}   {extra}')
    missed = [f for f in files if man[f]['label'] == 'malicious' and res[f] == 'SAFE']
    if missed:
        print('  malicious reported SAFE:', ', '.join(os.path.basename(m) for m in missed[:40]), '...' if len(missed) > 40 else '')


for name, fn in (('brine scan', brine), ('picklescan', picklescan), ('fickling', fickling)):
    try:
        res, secs = fn()
    except Exception as e:
        print(f'\n== {name}: not available ({e})')
        continue
    table(name, res, secs)
