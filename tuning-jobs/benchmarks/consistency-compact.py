#!/usr/bin/env python3
"""Copies a train-consistency summary without its bulk: the reward curve decimated to every 10th point.

    python3 tuning-jobs/benchmarks/consistency-compact.py SUMMARY.json OUT.json
"""
import json
import sys

d = json.load(open(sys.argv[1]))
c = d.get("rewardCurve", [])
d["rewardCurve"] = c[::10] + ([c[-1]] if c and (len(c) - 1) % 10 else [])
d["rewardCurveNote"] = "every 10th point of %d" % len(c)
json.dump(d, open(sys.argv[2], "w"), indent=1)
