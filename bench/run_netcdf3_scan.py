"""netCDF3 scan benchmark: references per second for a 1 GB netCDF3 file of 10,000 records, and
requests per remote file behind 20 ms per request; scipy's header reader (what kerchunk's
NetCDF3ToZarr is built on) opening the same files, in the same run, as the anchor.

Usage: /usr/bin/python3 bench/run_netcdf3_scan.py [--latency 0.02] [--runs 3]
Run from the repository root after scripts/build. Files go to build/bench-data/netcdf3/.
Prints a Markdown table and writes it to bench/results/netcdf3_scan.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import netCDF4
import numpy as np
from scipy.io import netcdf_file

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import Nginx  # noqa: E402

DATA = REPO / "build" / "bench-data" / "netcdf3"
SCAN = REPO / "build" / "scanner" / "kerchunkfs-scan"


def make_files():
    DATA.mkdir(parents=True, exist_ok=True)
    big = DATA / "records.nc"
    if not big.exists():
        # 10,000 records of three variables: 100 KB a record, 1 GB in all.
        with netCDF4.Dataset(big, "w", format="NETCDF3_64BIT_OFFSET") as nc:
            nc.createDimension("time", None)
            nc.createDimension("y", 100)
            nc.createDimension("x", 125)
            nc.createVariable("time", "f8", ("time",))[:] = np.arange(10_000)
            block = np.random.default_rng(0).normal(size=(100, 100, 125)).astype("f4")
            for name, dtype in (("a", "f4"), ("b", "f4")):
                variable = nc.createVariable(name, dtype, ("time", "y", "x"))
                for start in range(0, 10_000, 100):
                    variable[start:start + 100] = block
    typical = DATA / "typical.nc"
    if not typical.exists():
        # A typical daily file: 24 records of 6 variables on a 180 × 360 grid (about 12 MB).
        with netCDF4.Dataset(typical, "w", format="NETCDF3_CLASSIC") as nc:
            nc.title = "typical"
            nc.createDimension("time", None)
            nc.createDimension("lat", 180)
            nc.createDimension("lon", 360)
            nc.createVariable("lat", "f4", ("lat",))[:] = np.linspace(-89.5, 89.5, 180)
            nc.createVariable("lon", "f4", ("lon",))[:] = np.linspace(0.5, 359.5, 360)
            nc.createVariable("time", "f8", ("time",))[:] = np.arange(24)
            for v in range(6):
                variable = nc.createVariable(f"v{v}", "i2", ("time", "lat", "lon"))
                variable.scale_factor = 0.01
                variable[:] = np.zeros((24, 180, 360), dtype="i2")
    return big, typical


def scan_seconds(source, out, extra=()):
    start = time.perf_counter()
    subprocess.run([str(SCAN), str(source), "-o", str(out), "-q", *extra], check=True)
    return time.perf_counter() - start


def scipy_seconds(source):
    start = time.perf_counter()
    with netcdf_file(str(source), "r", mmap=True) as f:  # the header parsed, the data mapped, not read
        _ = {name: v.shape for name, v in f.variables.items()}
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    big, typical = make_files()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "refs.json"
        for source in (big, typical):
            ours = statistics.median(scan_seconds(source, out) for _ in range(args.runs))
            references = sum(1 for v in json.loads(out.read_text())["refs"].values() if isinstance(v, list))
            anchor = statistics.median(scipy_seconds(source) for _ in range(args.runs))
            rows.append((f"{source.name} ({os.path.getsize(source) / 1e6:.0f} MB), local", references, ours,
                         references / ours, anchor, None))
        (Path(work) / "nginx").mkdir()
        nginx = Nginx(DATA, Path(work) / "nginx", latency_s=args.latency)
        try:
            log = nginx.access_log
            for source in (big, typical):
                before = sum(1 for _ in open(log)) if log.exists() else 0
                seconds = scan_seconds(nginx.url(source.name), out)
                time.sleep(0.05)
                requests = sum(1 for _ in open(log)) - before
                references = sum(1 for v in json.loads(out.read_text())["refs"].values() if isinstance(v, list))
                rows.append((f"{source.name}, over HTTP (+{args.latency * 1000:.0f} ms a request)", references,
                             seconds, references / seconds, None, requests))
        finally:
            nginx.stop()
    lines = ["| file | references | kerchunkfs-scan seconds | references per second | scipy netcdf_file open, "
             "ms | requests |", "|---|---|---|---|---|---|"]
    for name, references, seconds, rate, anchor, requests in rows:
        lines.append(f"| {name} | {references} | {seconds:.3f} | {rate:,.0f} | "
                     f"{'' if anchor is None else f'{anchor * 1000:.2f}'} | {'' if requests is None else requests} |")
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "netcdf3_scan.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with "
        f"`/usr/bin/python3 bench/run_netcdf3_scan.py` (medians of {args.runs} runs; the scan time includes "
        "starting the process and writing the JSON; scipy's open, with mmap, parses the header and maps the data, and "
        "makes no references).\n\n"
        f"{table}\n")


if __name__ == "__main__":
    main()
