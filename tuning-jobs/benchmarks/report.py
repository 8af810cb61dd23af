#!/usr/bin/env python3
"""Markdown tables for BENCHMARKS.md from the outputs of baselines.sh and dpmsolver-v3.sh (stdlib only).

    python3 tuning-jobs/benchmarks/report.py [work-dirs/bench [TUNED_SUBDIR]]

TUNED_SUBDIR (default "tuned") is tuned.sh's $TUNED: which coefficient-method run the issue-4 tables show.
"""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "work-dirs/bench"
tuned_subdir = sys.argv[2] if len(sys.argv) > 2 else "tuned"


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def fmt(m, se):
    return f"{m:.4g} ± {se:.2g}"


for name in sorted(os.listdir(root)):
    d = os.path.join(root, name)
    sweep = load(os.path.join(d, "sweep.json"))
    v3 = load(os.path.join(d, "v3.json"))
    if sweep is None and v3 is None:
        continue
    train = load(os.path.join(d, "train", "trajectories.json"))
    held = load(os.path.join(d, "heldout", "trajectories.json"))
    print(f"\n#### {name}\n")
    for label, t in (("training", train), ("held-out", held)):
        if t:
            tp, acc = t["throughput"], t["accuracy"]
            print(f"- teacher ({label}): {len(t['seeds'])} seeds, {t['teacher']['steps']} steps; "
                  f"{tp['modelCallsPerSecond']:.0f} model calls/s = {tp['sampleEvaluationsPerSecond']:.0f} sample "
                  f"evaluations/s ({tp['seconds']:.0f} s); half-step relative RMS difference {acc['relRmsDiff']:.2g}")
    for src in ("ems-data", "ems-teacher"):
        p = load(os.path.join(d, src, "provenance.json"))
        if p:
            st = p["settings"]
            print(f"- EMS `{src}`: K {st['gridSteps']}, {st['samples']} samples, l by {st['lMethod']}: "
                  f"fit in {p['seconds']:.1f} s")
    base = {c["nfe"]: c for c in (sweep or v3)["baseline"]}
    comps = {}
    for doc in (sweep, v3):
        for c in (doc or {}).get("comparisons", []):
            comps[(c["method"], c["nfe"])] = c
    rows = (sweep or v3)["trainRows"] if "trainRows" in (sweep or v3) else None
    print(f"\n| NFE | best untuned baseline (chosen on training seeds) | held-out MSE ± s.e. |"
          f" hyperparameter search: MSE, ratio, beats? | DPM-Solver-v3: MSE, ratio, beats? | v3 config |")
    print("|---:|---|---:|---:|---:|---|")
    v3base = {c["nfe"]: c for c in v3["baseline"]} if v3 else {}
    for nfe in sorted(base):
        b = base[nfe]
        hp = comps.get(("hyperparameter-search", nfe))
        v = comps.get(("dpmsolver-v3", nfe))
        hp_s = f"{fmt(hp['heldOutMse'], hp['heldOutStdErr'])}, {hp['ratio']:.2f}, {hp['verdict']}" if hp else "–"
        v_s = f"{fmt(v['heldOutMse'], v['heldOutStdErr'])}, {v['ratio']:.2f}, {v['verdict']}" if v else "–"
        v_cfg = v["config"] if v else ""
        if v and v3base and v3base[nfe]["best"]["name"] != b["best"]["name"]:
            v_cfg += f" (vs {v3base[nfe]['best']['name']}, chosen on v3's selection rows)"
        print(f"| {nfe} | {b['best']['name']} | {fmt(b['heldOut']['meanMse'], b['heldOut']['stdErr'])} | {hp_s} |"
              f" {v_s} | {v_cfg} |")

# coefficient methods (tuned.sh -> <dir>/tuned/summary.json, or the per-method JSON files while it runs)
print("\n### Coefficient methods (issue 4)")
overview = []
for name in sorted(os.listdir(root)):
    tdir = os.path.join(root, name, tuned_subdir)
    if not os.path.isdir(tdir):
        continue
    summary = load(os.path.join(tdir, "summary.json"))
    rows = []
    if summary:
        rows = summary["results"]
    else:
        for f in sorted(os.listdir(tdir)):
            if f.endswith(".json") and "-nfe" in f:
                s = load(os.path.join(tdir, f))
                v = s["validation"]
                b = s["base"]
                label = " ".join(str(b[k]).lower() for k in ("solver", "prediction", "method", "variant", "order")
                                 if k in b) + " " + s["spacing"]["type"]
                rows.append({"method": f.rsplit("-nfe", 1)[0], "nfe": s["nfe"],
                             "config": label, "heldOutMse": v["mse"],
                             "heldOutStdErr": v["stdErr"], "baseMse": v["baseMse"], "vsBase": v["vsBase"],
                             "baseline": v.get("baseline"), "baselineMse": v.get("baselineMse"),
                             "vsBaseline": v.get("vsBaseline"), "fitSeconds": s["fit"]["seconds"]})
    if not rows:
        continue
    order = ["dc", "dc-final", "dode", "dode-teacher", "iia-ddim", "iia-ddim-teacher", "iia-dpmsolver++2m",
             "iia-dpmsolver++2m-teacher", "iia-edm", "iia-edm-teacher", "biia-edm", "biia-edm-teacher"]
    rows.sort(key=lambda r: (order.index(r["method"]) if r["method"] in order else 99, r["nfe"]))
    print(f"\n#### {name}\n")
    print("| method | NFE | chosen variant (selection rows) | held-out MSE ± s.e. | base MSE | vs base | beats base? |"
          " vs best baseline | beats baseline? | fit s |")
    print("|---|---:|---|---:|---:|---:|---|---:|---|---:|")
    word = {"BEATS": "yes", "TIE": "tie", "WORSE": "no (worse)", None: "–"}
    for r in rows:
        bl = r.get("baselineMse")
        cfg = r['config'] + (" (reset to neutral)" if r.get("resetToNeutral") else "")
        print(f"| {r['method']} | {r['nfe']} | {cfg} | {fmt(r['heldOutMse'], r['heldOutStdErr'])} |"
              f" {r['baseMse']:.4g} | {r['heldOutMse'] / r['baseMse']:.2f} | {word[r['vsBase']]} |"
              f" {(r['heldOutMse'] / bl) if bl else float('nan'):.2f} | {word[r.get('vsBaseline')]} |"
              f" {r['fitSeconds']:.0f} |")
    # best tuned method at NFE 5 vs the best untuned baseline at NFE 8
    # a set reset to neutral is its base solver, not a tuned method
    at5 = [r for r in rows if r["nfe"] == 5 and r["vsBase"] != "WORSE" and not r.get("resetToNeutral")]
    base8 = None
    # the fit's own baseline choice (same teacher sets and selection rows), else the sweep's
    sw = (summary if summary and "baseline" in summary else None) \
        or load(os.path.join(root, name, "sweep.json")) or load(os.path.join(root, name, "v3.json"))
    if sw:
        for c in sw["baseline"]:
            if c["nfe"] == 8:
                base8 = c["heldOut"]["meanMse"]
    count = lambda v: sum(1 for r in rows if r["vsBase"] == v)
    ratio = "–"
    if at5 and base8:
        b5 = min(at5, key=lambda r: r["heldOutMse"])
        ratio = f"{b5['heldOutMse']:.4g} ({b5['method']}) / {base8:.4g} = **{b5['heldOutMse'] / base8:.2f}**"
    overview.append(f"| {name} | {len(rows)} | {count('BEATS')} | {count('TIE')} | {count('WORSE')} |"
                    f" {sum(1 for r in rows if r.get('resetToNeutral'))} |"
                    f" {sum(1 for r in rows if r.get('vsBaseline') == 'BEATS')} | {ratio} |")
    if at5 and base8:
        b = min(at5, key=lambda r: r["heldOutMse"])
        print(f"\nBest tuned method at NFE 5: {b['method']} ({b['heldOutMse']:.4g}); best untuned baseline at NFE 8:"
              f" {base8:.4g}; ratio {b['heldOutMse'] / base8:.2f} (goal ≤ 1).")

if overview:
    print("\n| model | sets (method × NFE) | beat their base | tie | worse | reset to neutral | beat the best baseline |"
          " best tuned NFE 5 / best baseline NFE 8 |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(overview))
