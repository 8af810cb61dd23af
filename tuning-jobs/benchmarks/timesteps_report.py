#!/usr/bin/env python3
"""Prints the learned-timesteps tables of BENCHMARKS.md from learn-timesteps summary.json files.

usage: timesteps_report.py SUMMARY.json [SUMMARY.json ...]
"""
import json
import sys


def fmt(h):
    return f"{h['mean']:.4g} ± {h['stdErr']:.2g} | {h['median']:.3g} | {h['p99']:.3g}"


for path in sys.argv[1:]:
    s = json.load(open(path))
    print(f"#### {path}")
    print(f"held-out: {s.get('heldOut', '')} ({s['heldOutSeeds']} seeds); fit rows {s['fitRows']}, "
          f"selection rows {s['selectRows']}; settings {s['settings']}")
    print()
    print("| NFE | method | config | held-out mean ± s.e. | median | p99 | vs own base | vs best untuned same NFE "
          "| vs best untuned NFE 8 |")
    print("|---:|---|---|---:|---:|---:|---|---|---|")
    ref = s.get('reference')
    if ref:
        print(f"| {ref['nfe']} | untuned (reference) | {ref['config']} | {fmt(ref['heldOut'])} | | | |")
    for r in s['results']:
        print(f"| {r['nfe']} | {r['method']} | {r['config']} | {fmt(r['heldOut'])} | {r.get('vsBase', '')} "
              f"| {r.get('vsBaseline', '')} | {r.get('vsReference', '')} |")
    print()
