#!/usr/bin/env python3
"""`check_npz.py FILE.npz EXPECTED.json`: numpy must load every array EXPECTED.json lists
(`{"arrays": {name: {dtype, shape, value}}}`) with those values (strings compared as text)."""

import json
import sys

import numpy as np

from check_h5 import value_json


def main():
    with open(sys.argv[2]) as fh:
        expected = json.load(fh)["arrays"]
    bad = []
    with np.load(sys.argv[1], allow_pickle=False) as z:
        if sorted(z.files) != sorted(expected):
            bad.append("names: %r vs %r" % (sorted(z.files), sorted(expected)))
        for name in z.files:
            a, e = z[name], expected.get(name, {})
            if list(a.shape) != e.get("shape") or value_json(a) != e.get("value"):
                bad.append("%s: %r %r vs %r" % (name, a.shape, value_json(a), e))
    if bad:
        print("\n".join(bad))
        sys.exit(1)
    print("ok: %d arrays" % len(expected))


if __name__ == "__main__":
    main()
