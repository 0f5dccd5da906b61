"""Parquet reference sets: mount-ready time, memory after many lookups, and the first lookup in a
cold refs.K.parq, beside a JSON set measured in the same run.

Usage: /usr/bin/python3 bench/run_parquet_mount.py [--references 100000000] [--json 10000000] [--lookups 100000]
Run from the repository root after scripts/build. The parquet set is written by our writer
(build/bench/kerchunkfs-bench-make-parquet; 4 arrays, record size 100,000) and the JSON set by
bench/make_refs.py, both cached in build/bench-data/. Prints a Markdown table and writes it to
bench/results/parquet_mount.md.
"""

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from run_refstore_load import DAEMON, mount_ready, reference_file, rss_kib

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "build" / "bench-data"
MAKER = REPO / "build" / "bench" / "kerchunkfs-bench-make-parquet"


def parquet_set(n):
    path = DATA / f"refs-{n}.parq"
    if not (path / ".zmetadata").exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(MAKER), str(path), str(n)], check=True)
    return path


def peak_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def lookups(refs, n, count, seed=1):
    """Ready time; then `count` random chunk lookups (stat): RSS after, and the first lookups in
    files not read before (cold) against lookups in files read already (warm)."""
    per_array = n // 4
    record = 100_000
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as mountpoint:
        start = time.perf_counter()
        process = subprocess.Popen([str(DAEMON), str(refs), mountpoint, "-f", "-o", "allow_local=/"])
        while not os.path.ismount(mountpoint):
            time.sleep(0.002)
        os.listdir(mountpoint)
        ready = time.perf_counter() - start
        ready_rss = rss_kib(process.pid)
        seen_files, cold, warm = set(), [], []
        began = time.perf_counter()
        for _ in range(count):
            array, index = rng.randrange(4), rng.randrange(per_array)
            t = time.perf_counter()
            os.stat(f"{mountpoint}/v{array}/{index}")
            spent = time.perf_counter() - t
            file = (array, index // record)
            (warm if file in seen_files else cold).append(spent)
            seen_files.add(file)
        spent_all = time.perf_counter() - began
        rss = rss_kib(process.pid)
        peak = peak_rss_kib(process.pid)
        subprocess.run(["fusermount3", "-u", mountpoint], check=True)
        process.wait()
    return {"ready": ready, "ready_rss": ready_rss, "rss": rss, "peak": peak, "cold": statistics.median(cold),
            "cold_max": max(cold), "warm": statistics.median(warm), "files": len(seen_files), "all": spent_all}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--references", type=int, default=100_000_000)
    parser.add_argument("--json", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    args = parser.parse_args()
    refs = parquet_set(args.references)
    size_mb = sum(p.stat().st_size for p in refs.rglob("*") if p.is_file()) / 1e6
    result = lookups(refs, args.references, args.lookups)
    json_refs = reference_file(args.json)
    json_seconds, json_rss = mount_ready(json_refs)
    lines = [
        f"{args.references:,} references in the parquet layout ({size_mb:.0f} MB on disk, 4 arrays, record size "
        f"100,000, written by kerchunkfs' writer); {args.lookups:,} random chunk lookups (stat) after the mount is "
        f"ready; beside it a {args.json:,}-reference JSON set ({json_refs.stat().st_size / 1e6:.0f} MB) mounted in "
        f"the same run. {os.cpu_count()} cores.",
        "",
        "| set | mount ready | RSS when ready | RSS after the lookups | peak RSS | first lookup in a cold refs.K.parq (median / max) | lookup in a read file (median) |",
        "|---|---|---|---|---|---|---|",
        f"| parquet, {args.references:,} | {result['ready']:.3f} s | {result['ready_rss'] / 1024:.0f} MB | "
        f"{result['rss'] / 1024:.0f} MB | {result['peak'] / 1024:.0f} MB | {result['cold'] * 1000:.1f} / "
        f"{result['cold_max'] * 1000:.1f} ms ({result['files']} files) | {result['warm'] * 1000:.2f} ms |",
        f"| JSON, {args.json:,} | {json_seconds:.3f} s | {json_rss / 1024:.0f} MB | | | | |",
    ]
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "parquet_mount.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} with `/usr/bin/python3 bench/run_parquet_mount.py`.\n\n{table}\n")


if __name__ == "__main__":
    main()
