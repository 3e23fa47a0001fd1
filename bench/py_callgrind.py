#!/usr/bin/env python3
"""One loader, N calls, on bm_pickle's ~1 MB mix (protocol 4): for instruction counts.

    PY=$(python3 -c 'import sys; print(sys.executable)')   # not a pyenv shim
    for m in pickle restricted safe trusted; do for n in 0 3; do
      valgrind --tool=callgrind --callgrind-out-file=/dev/null $PY bench/py_callgrind.py $m $n \
        2>&1 | grep Collected | sed "s/^/$m $n /"; done; done

Per call = (count at 3 - count at 0) / 3.
"""
import sys, pickle, copy, io
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from compare import DICT, DICT_GROUP, LIST, MICRO_DICT, TUPLE
import brine
unit = [DICT, TUPLE, DICT_GROUP, LIST, MICRO_DICT]
size = sum(len(pickle.dumps(x, 4)) for x in unit)
mix = [copy.deepcopy(x) for _ in range(1024 * 1024 // size + 1) for x in unit]
d = pickle.dumps(mix, 4)
class R(pickle.Unpickler):
    def find_class(self, m, n):
        if (m, n) == ("datetime", "date"): return super().find_class(m, n)
        raise pickle.UnpicklingError(n)
f = {"pickle": pickle.loads, "restricted": lambda d: R(io.BytesIO(d)).load(),
     "safe": brine.loads, "trusted": lambda d: brine.loads(d, trusted=True)}[sys.argv[1]]
for _ in range(int(sys.argv[2])): f(d)
