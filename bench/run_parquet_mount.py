"""Parquet reference sets: mount-ready time, memory after many lookups, and the first lookup in a
cold refs.K.parq, for a set written by our writer and the same set written by parquet-wasm
(Arrow's Rust writer: dictionary pages), beside a JSON set measured in the same run.

Usage: /usr/bin/python3 bench/run_parquet_mount.py [--references 100000000] [--json 10000000] [--lookups 100000]
Run from the repository root after scripts/build. The parquet sets (4 arrays, record size
100,000) are written by build/bench/kerchunkfs-bench-make-parquet and bench/make_parquet_refs.mjs
(parquet-wasm, installed into build/node as the tests do), the JSON set by bench/make_refs.py, all
cached in build/bench-data/. Prints a Markdown table and writes it to bench/results/parquet_mount.md.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_refstore_load import DAEMON, reference_file, rss_kib

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "build" / "bench-data"
MAKER = REPO / "build" / "bench" / "kerchunkfs-bench-make-parquet"
NODE = REPO / "build" / "node"
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import readers  # noqa: E402  (the tests' npm installer)


def parquet_set(n, writer):
    path = DATA / (f"refs-{n}.parq" if writer == "kerchunkfs" else f"refs-{n}-{writer}.parq")
    if not (path / ".zmetadata").exists():
        DATA.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(path, ignore_errors=True)
        if writer == "kerchunkfs":
            subprocess.run([str(MAKER), str(path), str(n)], check=True)
        else:
            reason = readers.npm_unavailable_reason({"parquet-wasm": "0.7", "apache-arrow": "21"})
            if reason:
                return None, reason
            shutil.copyfile(REPO / "bench" / "make_parquet_refs.mjs", NODE / "make_parquet_refs.mjs")
            subprocess.run(["node", str(NODE / "make_parquet_refs.mjs"), str(path), str(n)], check=True)
    return path, None


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(refs, n=0, count=0, seed=1):
    """Ready time and RSS; then `count` random chunk lookups (stat) over 4 arrays of n/4 chunks:
    RSS after, and the first lookups in files not read before (cold) against lookups in files
    read already (warm)."""
    per_array, record = n // 4, 100_000
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as mountpoint:
        start = time.perf_counter()
        process = subprocess.Popen([str(DAEMON), str(refs), mountpoint, "-f", "-o", "allow_local=/"])
        while not os.path.ismount(mountpoint):
            time.sleep(0.002)
        os.listdir(mountpoint)
        result = {"ready": time.perf_counter() - start, "ready_rss": rss_kib(process.pid)}
        seen_files, cold, warm = set(), [], []
        for _ in range(count):
            array, index = rng.randrange(4), rng.randrange(per_array)
            t = time.perf_counter()
            os.stat(f"{mountpoint}/v{array}/{index}")
            spent = time.perf_counter() - t
            file = (array, index // record)
            (warm if file in seen_files else cold).append(spent)
            seen_files.add(file)
        result.update(rss=rss_kib(process.pid), peak=status_kib(process.pid, "VmHWM"), files=len(seen_files))
        if cold:
            cold.sort()
            result.update(cold=statistics.median(cold), cold_p95=cold[int(len(cold) * 0.95)], cold_max=cold[-1],
                          warm=statistics.median(warm))
        subprocess.run(["fusermount3", "-u", mountpoint], check=True)
        process.wait()
    return result


def megabytes(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--references", type=int, default=100_000_000)
    parser.add_argument("--json", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    args = parser.parse_args()
    lines = [
        f"{args.references:,} references in the parquet layout (4 arrays, record size 100,000: "
        f"{args.references // 100_000:,} refs.K.parq files), {args.lookups:,} random chunk lookups (stat) after "
        f"the mount is ready, with the default `-o parquet_cache=64M`; beside them a {args.json:,}-reference JSON "
        f"set mounted in the same run. {os.cpu_count()} cores; times are wall-clock from starting the daemon.",
        "",
        "| set | on disk | mount ready | RSS when ready | RSS after the lookups | peak RSS | first lookup in a cold "
        "refs.K.parq: median / p95 / max | lookup in a file read already (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for writer in ("kerchunkfs", "parquet-wasm"):
        refs, reason = parquet_set(args.references, writer)
        if refs is None:
            lines.append(f"| parquet by {writer} | not measured: {reason} | | | | | | |")
            continue
        r = measure(refs, args.references, args.lookups)
        lines.append(
            f"| parquet by {writer}, {args.references:,} | {megabytes(refs):.0f} MB | {r['ready']:.3f} s | "
            f"{r['ready_rss'] / 1024:.0f} MB | {r['rss'] / 1024:.0f} MB | {r['peak'] / 1024:.0f} MB | "
            f"{r['cold'] * 1000:.1f} / {r['cold_p95'] * 1000:.1f} / {r['cold_max'] * 1000:.1f} ms "
            f"({r['files']} files) | {r['warm'] * 1000:.2f} ms |")
    json_refs = reference_file(args.json)
    r = measure(json_refs)
    lines.append(f"| JSON, {args.json:,} | {json_refs.stat().st_size / 1e6:.0f} MB | {r['ready']:.3f} s | "
                 f"{r['ready_rss'] / 1024:.0f} MB | | {r['peak'] / 1024:.0f} MB | | |")
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "parquet_mount.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} with `/usr/bin/python3 bench/run_parquet_mount.py`.\n\n{table}\n")


if __name__ == "__main__":
    main()
