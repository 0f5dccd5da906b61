"""Two builds of the daemon side by side, in one run, on the figures a restructuring must not
worsen: mount-ready time and resident memory for 10 million references, and cold and warm reads
of the 365-chunk datasets behind 20 ms of latency (one file, A; 365 files, B).

Usage: /usr/bin/python3 bench/run_compare_builds.py --before OLD/kerchunkfs [--after build/daemon/kerchunkfs]
       [--runs 5] [--references 10000000]
Build the old one from a worktree of the commit to compare with, e.g.
  git worktree add /tmp/base 9fdca46 && (cd /tmp/base && scripts/build build)
Runs alternate between the builds, so both see the same machine; each figure is a median.
Writes bench/results/compare_builds.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import run_http_read  # noqa: E402
import run_refstore_load  # noqa: E402
from servers import Nginx  # noqa: E402


def reads(daemon, refs, meter):
    keys = [f"air/{t}.0.0" for t in range(run_http_read.DAYS)]
    with run_http_read.mounted(refs, daemon) as m:
        cold = meter(lambda: run_http_read.cat(m / k for k in keys))[0]
        warm = meter(lambda: run_http_read.cat(m / k for k in keys))[0]
    return cold, warm


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--after", type=Path, default=REPO / "build" / "daemon" / "kerchunkfs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--references", type=int, default=10_000_000)
    args = parser.parse_args()
    builds = {"before": args.before.resolve(), "after": args.after.resolve()}
    figures = {}

    def record(build, what, value):
        figures.setdefault((what, build), []).append(value)

    refs = run_refstore_load.reference_file(args.references)
    for _ in range(args.runs):
        for build, daemon in builds.items():
            seconds, rss_kib = run_refstore_load.mount_ready(refs, daemon)
            record(build, f"{args.references:,} references: mount ready (s)", seconds)
            record(build, f"{args.references:,} references: resident when ready (MB)", rss_kib * 1024 / 1e6)

    run_http_read.make_datasets()
    with tempfile.TemporaryDirectory() as work:
        nginx = Nginx(run_http_read.DATA, work, latency_s=0.02)
        try:
            meter = run_http_read.Meter(nginx)
            sets = run_http_read.references(nginx)
            for _ in range(args.runs):
                for name in ("A", "B"):
                    for build, daemon in builds.items():
                        cold, warm = reads(daemon, sets[name], meter)
                        record(build, f"{name}: cat every chunk, cold (s)", cold)
                        record(build, f"{name}: cat every chunk, warm (s)", warm)
        finally:
            nginx.stop()

    lines = [f"| figure | before | after | after / before |", "|---|---|---|---|"]
    for what in dict.fromkeys(w for w, _ in figures):
        before, after = (statistics.median(figures[(what, b)]) for b in ("before", "after"))
        lines.append(f"| {what} | {before:.3f} | {after:.3f} | {after / before:.2f} |")
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "compare_builds.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with `/usr/bin/python3 "
        f"bench/run_compare_builds.py --before OLD --runs {args.runs}` (medians; the builds alternate within "
        f"the run).\n\n{table}\n")


if __name__ == "__main__":
    main()
