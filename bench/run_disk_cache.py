"""Disk cache benchmark: a cold mount, a mount warm from -o disk_cache, and fsspec's own disk
caches (filecache, blockcache), behind 20 ms per request, all in one run.

Usage: /usr/bin/python3 bench/run_disk_cache.py [--latency 0.02] [--runs 3]
Run from the repository root after scripts/build. The datasets are run_http_read.py's (A: 365 zlib
chunks in one netCDF4 file; B: the same chunks in 365 files). Each figure reads either the whole
variable (every chunk file, in key order, with `cat`; fsspec: each key opened and read) or 50 random
chunks, in turn. "cold" starts from an empty cache directory; "warm" is a new mount (a new fsspec instance)
over the directory the cold run filled. Prints a Markdown table and writes
bench/results/disk_cache.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import fsspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_http_read import DAYS, DATA, Meter, cat, make_datasets, mounted, random_days, references  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import Nginx  # noqa: E402

KEYS = [f"air/{t}.0.0" for t in range(DAYS)]
RANDOM = [f"air/{t}.0.0" for t in random_days()]


def bench_mount(meter, refs, cache, trust):
    """Cold then warm from disk; `trust`: -o disk_cache_trust (0: the version asked once an object)."""
    rows = {}
    for what, keys in (("whole", KEYS), ("50 random chunks", RANDOM)):
        with tempfile.TemporaryDirectory(dir=cache) as directory:
            chosen = [f"disk_cache={directory}", f"disk_cache_trust={trust}"]
            with mounted(refs, options=chosen) as m:
                rows[f"{what}, cold"] = meter(lambda: cat(m / k for k in keys))
            with mounted(refs, options=chosen) as m:
                rows[f"{what}, warm from disk"] = meter(lambda: cat(m / k for k in keys))
    return rows


def bench_memory_only(meter, refs):
    rows = {}
    for what, keys in (("whole", KEYS), ("50 random chunks", RANDOM)):
        with mounted(refs) as m:
            rows[f"{what}, cold"] = meter(lambda: cat(m / k for k in keys))
    return rows


def bench_fsspec(meter, refs, cache):
    """fsspec's filecache over reference://, each key opened and read in turn, as a serial reader
    of chunk files does (the way fsspec's disk caches apply to references: blockcache needs ranged
    reads, which reference:// files lack, and below reference:// neither cache is consulted)."""
    rows = {}

    def read(directory, keys):
        fs = fsspec.filesystem("filecache", target_protocol="reference", cache_storage=directory,
                               target_options={"fo": str(refs), "remote_protocol": "http"}, skip_instance_cache=True)
        for key in keys:
            with fs.open(key, "rb") as f:
                f.read()

    for what, keys in (("whole", KEYS), ("50 random chunks", RANDOM)):
        with tempfile.TemporaryDirectory(dir=cache) as directory:
            rows[f"{what}, cold"] = meter(lambda: read(directory, keys))
            rows[f"{what}, warm from disk"] = meter(lambda: read(directory, keys))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3, help="each figure is the median of this many runs")
    args = parser.parse_args()
    make_datasets()
    cache = REPO / "build" / "bench-data" / "disk-cache"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        nginx = Nginx(DATA, work, latency_s=args.latency)
        try:
            meter = Meter(nginx)
            refs = references(nginx)
            runs = {}
            for _ in range(args.runs):
                for name in ("A", "B"):
                    paths = [("kerchunkfs, memory only", lambda r: bench_memory_only(meter, r)),
                             ("kerchunkfs -o disk_cache", lambda r: bench_mount(meter, r, cache, 0)),
                             ("kerchunkfs -o disk_cache,disk_cache_trust=3600",
                              lambda r: bench_mount(meter, r, cache, 3600)),
                             ("fsspec filecache over reference://", lambda r: bench_fsspec(meter, r, cache))]
                    for path, run in paths:
                        for label, value in run(refs[name]).items():
                            runs.setdefault((name, path, label), []).append(value)
            results = [(*key, statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
                       for key, values in runs.items()]
        finally:
            nginx.stop()
    cold = {(r[0], r[2].split(",")[0]): r[3] for r in results if r[1] == "kerchunkfs, memory only"}
    lines = [f"Datasets as in http_read.md (A: {DAYS} zlib chunks in one file, B: in {DAYS} files); nginx adds "
             f"{args.latency * 1000:.0f} ms to every request. Every row starts a new mount (a new fsspec instance); "
             "\"warm from disk\" reads what the \"cold\" row before it left in the cache directory. The last column "
             "divides by the memory-only kerchunkfs mount's cold time for the same reading, measured in the same run.",
             "",
             "| dataset | path | reading | seconds | GETs | × memory-only cold |",
             "|---|---|---|---|---|---|"]
    for name, path, label, seconds, gets in results:
        ratio = seconds / cold[(name, label.split(",")[0])]
        lines.append(f"| {name} | {path} | {label} | {seconds:.3f} | {gets:.0f} | {ratio:.2f} |")
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "disk_cache.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with "
        f"`/usr/bin/python3 bench/run_disk_cache.py` (medians of {args.runs} runs).\n\n{table}\n")


if __name__ == "__main__":
    main()
