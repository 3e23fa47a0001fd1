#!/usr/bin/env python3
"""Writes examples/sample.pickle, the example the README converts (run from the repo root)."""
import collections
import datetime
import os
import pickle

shared = ["shared", "list"]
value = {
    "name": "brine",
    "version": (0, 1, 0),
    "tags": {"pickle", "rust"},
    "big": 2**100,
    "ratio": 0.1,
    "blob": b"\x00\xffbytes",
    "when": datetime.date(2026, 11, 25),
    "counts": collections.OrderedDict([("a", 1), ("b", 2)]),
    "twice": [shared, shared],
    "text": "h\u00e9llo \u20ac \U0001f600",
}
value["self"] = value
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "sample.pickle"), "wb") as f:
    pickle.dump(value, f, protocol=4)
