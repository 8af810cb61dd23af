#!/usr/bin/env python3
"""Render loss.csv as loss_curve.png (PIL if available, no matplotlib needed).

    /usr/bin/python3 plot_loss.py
"""
import csv
import os

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rows = list(csv.DictReader(open(os.path.join(HERE, "loss.csv"))))
    step = np.array([int(r["step"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    W, H, L, R, T, B = 640, 360, 60, 20, 30, 40
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    lo, hi = np.log10(0.02), np.log10(1.0)  # log-scale y axis

    def xy(s, l):
        x = L + (W - L - R) * s / step.max()
        y = T + (H - T - B) * (hi - np.log10(np.clip(l, 10 ** lo, 10 ** hi))) / (hi - lo)
        return float(x), float(y)

    for v in (0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0):
        y = xy(0, v)[1]
        d.line([(L, y), (W - R, y)], fill=(225, 225, 225))
        d.text((5, y - 6), f"{v:g}", fill="black")
    for s in range(0, int(step.max()) + 1, 1000):
        x = xy(s, 1)[0]
        d.line([(x, T), (x, H - B)], fill=(225, 225, 225))
        d.text((x - 10, H - B + 5), str(s), fill="black")
    d.rectangle([L, T, W - R, H - B], outline="black")
    d.line([xy(s, l) for s, l in zip(step, loss)], fill=(30, 90, 200), width=2)
    # 500-step running mean
    k = 10
    if len(loss) > k:
        sm = np.convolve(loss, np.ones(k) / k, mode="valid")
        d.line([xy(s, l) for s, l in zip(step[k - 1:], sm)], fill=(220, 60, 30), width=2)
    d.text((L, 8), "epsilon-MSE training loss (blue: 50-step means, red: 500-step running mean; log y)", fill="black")
    d.text((W // 2 - 15, H - 18), "step", fill="black")
    img.save(os.path.join(HERE, "loss_curve.png"), optimize=True)
    print("wrote loss_curve.png")


if __name__ == "__main__":
    main()
