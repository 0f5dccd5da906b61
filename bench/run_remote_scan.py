"""Remote scan benchmark: kerchunkfs-scan reading HDF5 over HTTP, behind nginx adding 20 ms to
every request.

Usage: /usr/bin/python3 bench/run_remote_scan.py [--latency 0.02] [--files 1000] [--jobs 16]
Run from the repository root after scripts/build; needs nginx-light and libnginx-mod-http-echo.
Test files go to build/bench-data/remote/. Writes bench/results/remote_scan.md:

1. block-size sweep: requests, bytes and seconds per file for each (first read, block size), and
   the seconds modelled for a real network (the measured ones plus the bytes at 100 MB/s);
2. per file: (a) our remote scan, (b) our scan of a local copy, (c) a reader without buffering,
   every read the HDF5 library makes sent as its own request (--block-size 0; what reading
   through an unbuffered file object costs);
3. many remote files scanned with -j.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import netCDF4
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import Nginx  # noqa: E402

DATA = REPO / "build" / "bench-data" / "remote"
SCAN = REPO / "build" / "scanner" / "kerchunkfs-scan"
BANDWIDTH = 100e6  # bytes per second of one connection, for the modelled cost


def typical(path):
    """10 variables of 100 zlib chunks, each written whole (1.6 MB)."""
    rng = np.random.default_rng(0)
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "typical"
        for name, size in (("time", 100), ("y", 20), ("x", 20)):
            nc.createDimension(name, size)
        for v in range(10):
            var = nc.createVariable(f"v{v}", "f4", ("time", "y", "x"), zlib=True, chunksizes=(1, 20, 20))
            var.units = "K"
            var[:] = rng.normal(size=(100, 20, 20))


def daily(path):
    """A year of 3 variables appended a day at a time (58 MB): chunk indexes spread over the file."""
    rng = np.random.default_rng(1)
    lat, lon = np.arange(90)[:, None], np.arange(180)[None, :]
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("lat", 90)
        nc.createDimension("lon", 180)
        time_ = nc.createVariable("time", "f8", ("time",))
        time_.units = "days since 2000-01-01"
        nc.createVariable("lat", "f4", ("lat",))[:] = np.linspace(-89, 89, 90)
        nc.createVariable("lon", "f4", ("lon",))[:] = np.linspace(0, 358, 180)
        variables = [nc.createVariable(n, "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(1, 90, 180))
                     for n in ("tas", "pr", "psl")]
        for day in range(365):
            time_[day] = day
            for k, var in enumerate(variables):
                field = np.sin(lat / 10 + day / 30 + k) * np.cos(lon / 20) * 10
                var[day] = (field + rng.normal(size=(90, 180))).astype("f4")


def small(path):
    """One day of 4 variables on a 1-degree grid (the many-files case, 0.2 MB)."""
    rng = np.random.default_rng(2)
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", 1)
        nc.createDimension("lat", 180)
        nc.createDimension("lon", 360)
        nc.createVariable("time", "f8", ("time",))[:] = 0
        for name in ("tas", "pr", "psl", "uas"):
            var = nc.createVariable(name, "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(1, 90, 180),
                                    least_significant_digit=1)
            var[:] = rng.normal(size=(1, 180, 360))


FILES = {"typical netCDF4 (10 variables x 100 chunks, 1.6 MB)": ("typical.nc", typical),
         "a year appended daily (3 variables x 365 chunks, 58 MB)": ("daily.nc", daily),
         "one day, 4 variables (0.2 MB)": ("small.nc", small)}


def log_since(nginx, start):
    """(requests, body bytes) logged from byte `start` of the access log on."""
    with open(nginx.access_log, "rb") as log:
        log.seek(start)
        lines = log.read().decode().splitlines()
    sent = [int(m.group(1)) for m in (re.search(r'" \d+ (\d+) "range=', line) for line in lines) if m]
    return len(sent), sum(sent)


def log_size(nginx):
    return nginx.access_log.stat().st_size if nginx.access_log.exists() else 0


def remote_scan(nginx, name, *options, runs=3):
    """Best time of `runs`, with the requests and bytes of one run."""
    best, requests, sent = None, 0, 0
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            start = log_size(nginx)
            began = time.perf_counter()
            subprocess.run([str(SCAN), nginx.url(name, slow=True), "-o", f"{out}/refs.json", "-q", *map(str, options)],
                           check=True)
            elapsed = time.perf_counter() - began
            time.sleep(0.05)  # nginx writes its log line after the answer
            requests, sent = log_since(nginx, start)
            best = elapsed if best is None else min(best, elapsed)
    return requests, sent, best


def local_scan(path, runs=5):
    with tempfile.TemporaryDirectory() as out:
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run([str(SCAN), str(path), "-o", f"{out}/refs.json", "-q"], check=True)
            times.append(time.perf_counter() - began)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=16)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    for name, make in FILES.values():
        if not (DATA / name).exists():
            make(DATA / name)
    many = DATA / "many"
    many.mkdir(exist_ok=True)
    for i in range(args.files):  # distinct URLs of one small file
        link = many / f"day{i:04d}.nc"
        if not link.exists():
            link.symlink_to(DATA / "small.nc")

    work = Path(tempfile.mkdtemp(prefix="kerchunkfs-bench-"))
    nginx = Nginx(DATA, work, latency_s=args.latency)
    try:
        sweep = ["| first read | block | " + " | ".join(f"{label}: requests, MB, s (model s)" for label in FILES) + " |",
                 "|---|---|" + "---|" * len(FILES)]
        for first in (256 << 10, 1 << 20, 2 << 20, 4 << 20):
            for block in (64 << 10, 256 << 10, 1 << 20):
                if block > first:
                    continue
                cells = []
                for name, _ in FILES.values():
                    requests, sent, seconds = remote_scan(nginx, name, "--first-read", first, "--block-size", block, runs=1)
                    model = seconds + sent / BANDWIDTH
                    cells.append(f"{requests}, {sent / 1e6:.1f}, {seconds:.2f} ({model:.2f})")
                sweep.append(f"| {first >> 10} KiB | {block >> 10} KiB | " + " | ".join(cells) + " |")
                print(sweep[-1], flush=True)

        rows = ["| file | (a) remote scan: requests, s | (b) local copy: s | (c) unbuffered reads: requests, s |",
                "|---|---|---|---|"]
        for label, (name, _) in FILES.items():
            requests, _, seconds = remote_scan(nginx, name)
            plain_requests, _, plain_seconds = remote_scan(nginx, name, "--block-size", "0", runs=1)
            rows.append(f"| {label} | {requests}, {seconds:.3f} s | {local_scan(DATA / name):.3f} s | "
                        f"{plain_requests}, {plain_seconds:.2f} s |")
            print(rows[-1], flush=True)

        urls = [nginx.url(f"many/day{i:04d}.nc", slow=True) for i in range(args.files)]
        with tempfile.TemporaryDirectory() as out:
            (Path(out) / "list").write_text("\n".join(urls) + "\n")
            start = log_size(nginx)
            began = time.perf_counter()
            subprocess.run([str(SCAN), f"@{out}/list", "--out-dir", f"{out}/refs", "-j", str(args.jobs), "-q"], check=True)
            elapsed = time.perf_counter() - began
            time.sleep(0.2)
            requests, sent = log_since(nginx, start)
            began = time.perf_counter()
            subprocess.run([str(SCAN), f"@{out}/list", "--concat-dim", "member", "--coordinate", "member=index",
                            "-o", f"{out}/combined.json", "-j", str(args.jobs), "-q"], check=True)
            combined = time.perf_counter() - began
        many_rows = ["| job | seconds | requests | MB |", "|---|---|---|---|",
                     f"| scan {args.files} remote files, -j {args.jobs} | {elapsed:.1f} s | {requests} | {sent / 1e6:.0f} |",
                     f"| the same, scanned and combined along a new axis | {combined:.1f} s | | |"]
        print("\n".join(many_rows[2:]), flush=True)
    finally:
        nginx.stop()

    text = (f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with "
            f"`/usr/bin/python3 bench/run_remote_scan.py` (nginx on loopback adding {args.latency * 1000:.0f} ms "
            "to every request). The model column adds to the measured seconds the time the bytes would "
            "take at 100 MB/s, which loopback does not charge.\n\n## Block sizes\n\n" + "\n".join(sweep) +
            "\n\n## Per file (defaults)\n\n" + "\n".join(rows) + "\n\n## Many files\n\n" + "\n".join(many_rows) + "\n")
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "remote_scan.md").write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
