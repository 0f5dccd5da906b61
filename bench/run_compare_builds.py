"""Two builds side by side, in one run, on the figures a restructuring must not worsen:
mount-ready time and resident memory for 10 million references, cold and warm reads of the
365-chunk datasets behind 20 ms of latency (one file, A; 365 files, B), and the scanners: an HDF5
dataset of 64,000 chunks, 100 typical netCDF4 files, a 1 GB netCDF3 file of 10,000 records, a DMR++
sidecar of 100,000 chunks, and a typical netCDF4 file scanned remotely through nginx (+20 ms).

Usage: /usr/bin/python3 bench/run_compare_builds.py --before OLD/kerchunkfs [--after build/daemon/kerchunkfs]
       [--runs 5] [--references 10000000]
Each build's kerchunkfs-scan is the one in its build tree (BUILD/scanner/kerchunkfs-scan).
Build the old one from a worktree of the commit to compare with, e.g.
  git worktree add /tmp/base 9fdca46 && (cd /tmp/base && scripts/build build)
Runs alternate between the builds, so both see the same machine; each figure is a median.
Writes bench/results/compare_builds.md.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import run_dmrpp_scan  # noqa: E402
import run_http_read  # noqa: E402
import run_netcdf3_scan  # noqa: E402
import run_refstore_load  # noqa: E402
import run_scan  # noqa: E402
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
            seconds, rss_kib, peak_kib = run_refstore_load.mount_ready(refs, daemon)
            record(build, f"{args.references:,} references: mount ready (s)", seconds)
            record(build, f"{args.references:,} references: resident when ready (MB)", rss_kib * 1024 / 1e6)
            record(build, f"{args.references:,} references: peak resident (MB)", peak_kib * 1024 / 1e6)

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

    scanners = {build: daemon.parents[1] / "scanner" / "kerchunkfs-scan" for build, daemon in builds.items()}
    run_scan.DATA.mkdir(parents=True, exist_ok=True)
    hdf5 = run_scan.many_chunks(64_000)
    typical = [run_scan.typical(i) for i in range(100)]
    records, _ = run_netcdf3_scan.make_files()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        sidecar = work / "large.h5.dmrpp"
        run_dmrpp_scan.large_sidecar(sidecar)
        served = run_http_read.DATA / "typical-remote.nc"
        shutil.copyfile(typical[0], served)
        (work / "nginx").mkdir()
        nginx = Nginx(run_http_read.DATA, work / "nginx", latency_s=0.02)
        scans = {
            "scan: HDF5, one dataset of 64,000 chunks (s)": lambda scan: [str(scan), str(hdf5), "-o", str(work / "o.json")],
            "scan: 100 typical netCDF4 files (s)": lambda scan: [str(scan), *map(str, typical), "--out-dir", str(work / "d")],
            "scan: netCDF3, 10,000 records, 1 GB (s)": lambda scan: [str(scan), str(records), "-o", str(work / "o.json")],
            "scan: DMR++ sidecar of 100,000 chunks (s)":
                lambda scan: [str(scan), str(sidecar), "-o", str(work / "o.json"), "--skip-unsupported"],
            "scan: typical netCDF4 file over HTTP, +20 ms (s)":
                lambda scan: [str(scan), nginx.url(served.name, slow=True), "-o", str(work / "o.json")],
        }
        try:
            for _ in range(args.runs):
                for what, command in scans.items():
                    for build, scan in scanners.items():
                        start = time.perf_counter()
                        subprocess.run([*command(scan), "-q"], check=True)
                        record(build, what, time.perf_counter() - start)
        finally:
            nginx.stop()
            served.unlink()

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
