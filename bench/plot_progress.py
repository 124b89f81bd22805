"""Plot a long job's rate from its progress lines (``label: done/total (..%), N s elapsed``).

    .venv/bin/python bench/plot_progress.py bench/out/foundation-1m.log bench/out/seed-rate.png

Shows whether throughput holds up as the database grows (it should: BTree
depth grows by one level per ~100x).
"""
import re
import sys

LINE = re.compile(r"^(?P<label>[\w ]+): (?P<done>\d+)/(?P<total>\d+) \(\d+%\), (?P<elapsed>\d+) s elapsed")


def points(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                out.append((int(m["done"]), int(m["elapsed"]), m["label"]))
    return out


def main(source, target):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    data = points(source)
    if len(data) < 2:
        sys.exit(f"no progress lines in {source}")
    label = data[0][2]
    xs, rates = [], []
    for (d0, t0, _), (d1, t1, _) in zip(data, data[1:]):
        if t1 > t0:
            xs.append(d1)
            rates.append((d1 - d0) / (t1 - t0))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(xs, rates, marker=".")
    ax.set_xlabel(f"{label}: done")
    ax.set_ylabel("per second")
    ax.set_title(f"{label}: rate while the database grows")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    print(f"written {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
