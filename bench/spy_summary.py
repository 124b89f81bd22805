"""Where the time goes in a py-spy collapsed-stack file: the share of the
samples each function is on the stack for (inclusive) and at the top of
(self), for processes sampled with ``py-spy record --format raw``."""
import collections
import re
import sys

_FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def _name(frame):
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path})"


def summarize(path, top=30, out=sys.stdout):
    inclusive, own = collections.Counter(), collections.Counter()
    total = 0
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [_name(fr) for fr in stack.split(";")]
            frames = [fr for fr in frames if not fr.startswith("process ")]
            total += n
            for name in set(frames):
                inclusive[name] += n
            if frames:
                own[frames[-1]] += n
    if not total:
        print("py-spy: no samples", file=out)
        return
    print(f"py-spy: {total} samples; inclusive share of the top functions:", file=out)
    for name, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {name}", file=out)
    print("self share:", file=out)
    for name, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {name}", file=out)


if __name__ == "__main__":
    summarize(sys.argv[1])
