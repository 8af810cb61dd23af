#!/usr/bin/env python3
"""Prints the ConsistencySolver-on-learned-grids table of BENCHMARKS.md from train-consistency stage summaries.

usage: timesteps_consistency_report.py GRIDS/consistency.json [CONTROL/consistency.json]

GRIDS: the run with --grids (consistency-rl+timesteps/consistency.json); CONTROL (optional): the same training on a
spacing. Paired verdicts on the same held-out seeds: z = mean difference / its paired standard error, beats / worse at
|z| > 2. The best untuned solver at NFE 8 is the NFE-8 row's baseline.
"""
import json
import math
import sys


def paired(a, b):
    n = len(a)
    assert n == len(b)
    d = [x - y for x, y in zip(a, b)]
    m = sum(d) / n
    var = sum((x - m) ** 2 for x in d) / (n - 1)
    se = math.sqrt(var / n)
    z = m / se if se > 0 else 0.0
    word = "beats" if z < -2 else "worse" if z > 2 else "tie"
    return f"{word} ({z:+.1f} s.e.)"


def score(s):
    return f"{s['meanMse']:.4g} ± {s['stdErr']:.2g}"


runs = [json.load(open(p)) for p in sys.argv[1:]]
g = runs[0]
ctl = runs[1] if len(runs) > 1 else None
by = {r['nfe']: r for r in g['results']}
ref = by.get(8)
grids = {x['nfe']: x for x in g.get('grids') or []}
print("| NFE | grid (learned for) | ConsistencySolver held-out mean ± s.e. | median | p99 | vs its base (same grid) "
      "| best untuned same NFE | its mean ± s.e. | vs it | vs best untuned NFE 8 |"
      + (" same training on Karras | vs it |" if ctl else ""))
print("|---:|---|---:|---:|---:|---|---|---:|---|---|" + ("---:|---|" if ctl else ""))
cby = {r['nfe']: r for r in ctl['results']} if ctl else {}
for nfe in sorted(by):
    r = by[nfe]
    h = r['heldOut']
    line = (f"| {nfe} | {grids.get(nfe, {}).get('variant', '')} | {score(h)} | {r['median']:.3g} | {r['p99']:.3g} "
            f"| {paired(h['perSeed'], r['base']['perSeed'])} ({score(r['base'])}) | {r['baseline']} "
            f"| {score(r['baselineScore'])} | {paired(h['perSeed'], r['baselineScore']['perSeed'])} "
            f"| {paired(h['perSeed'], ref['baselineScore']['perSeed']) if ref else ''} |")
    if ctl and nfe in cby:
        c = cby[nfe]
        line += f" {score(c['heldOut'])} ({c['median']:.3g}, {c['p99']:.3g}) | {paired(h['perSeed'], c['heldOut']['perSeed'])} |"
    print(line)
if ref:
    print(f"\nbest untuned at NFE 8: {ref['baseline']} {score(ref['baselineScore'])} (median "
          f"{ref['baselineMedian']:.3g}, p99 {ref['baselineP99']:.3g}); iterations {g['iterations']}, "
          f"select every {g.get('selectEvery')}")
