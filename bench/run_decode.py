"""Decoded-view benchmark: zarr-python reading a whole shuffle + zlib variable through the mount
with -o decode, through the raw mount, and through fsspec's ReferenceFileSystem, behind 20 ms per
request; xarray .load() for each.

Usage: /usr/bin/python3 bench/run_decode.py [--latency 0.02] [--runs 3]
Run from the repository root after scripts/build (needs nginx-light, libnginx-mod-http-echo,
python3-aiohttp). The dataset goes to build/bench-data/decode/: float32 air(time=365, 190, 190),
shuffle + zlib, one chunk per day, in one netCDF4 file. Every figure is cold: a fresh mount or a
fresh fsspec instance. Prints a Markdown table and writes it to bench/results/decode.md.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import fsspec
import netCDF4
import numpy as np
import xarray as xr
import zarr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "bench"))
import h5refs  # noqa: E402
from run_http_read import Meter, mounted  # noqa: E402
from servers import Nginx  # noqa: E402

DATA = REPO / "build" / "bench-data" / "decode"
DAYS, NY, NX = 365, 190, 190


def make_dataset():
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "air.nc"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    base = np.linspace(250, 300, NY, dtype="f4")[None, :, None]
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", DAYS)
        nc.createDimension("y", NY)
        nc.createDimension("x", NX)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 2024-01-01"
        t[:] = np.arange(DAYS)
        air = nc.createVariable("air", "f4", ("time", "y", "x"), zlib=True, shuffle=True, chunksizes=(1, NY, NX))
        air[:] = np.round(base + rng.normal(0, 3, size=(DAYS, NY, NX)), 2).astype("f4")
    return path


def stats_of(mount):
    text = (mount / ".kerchunkfs" / "stats").read_text()
    return {name: float(value) for name, value in re.findall(r"^kerchunkfs_(\w+) (\S+)$", text, re.M)}


def peak_rss_mb(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3, help="each figure is the median of this many runs")
    args = parser.parse_args()
    path = make_dataset()
    expected = None
    runs, notes = {}, {}
    with tempfile.TemporaryDirectory() as work:
        nginx = Nginx(DATA, work, latency_s=args.latency)
        try:
            refs = DATA / "refs.json"
            refs.write_text(__import__("json").dumps(h5refs.build_netcdf(path, url=nginx.url("air.nc", slow=True))))
            meter = Meter(nginx)
            with netCDF4.Dataset(path) as nc:
                expected = nc.variables["air"][...].data

            def check(values):
                assert np.array_equal(values, expected), "wrong values"

            def fresh_fs():
                return fsspec.filesystem("reference", fo=str(refs), remote_protocol="http", skip_instance_cache=True)

            for _ in range(args.runs):
                for label, options in (("(a) mount -o decode", ("decode",)), ("(b) raw mount", ())):
                    with mounted(refs, options=options) as m:
                        seconds, gets = meter(lambda: check(zarr.open_array(str(m / "air"), mode="r")[...]))
                        runs.setdefault((label, "zarr-python [:]"), []).append((seconds, gets))
                        if options:
                            s = stats_of(m)
                            notes.setdefault("decode MB/s per core", []).append(
                                s["decoded_bytes_total"] / 1e6 / s["decode_seconds_total"])
                            held = "decoded cache MB held after the read (chunks read are left to the page cache)"
                            notes.setdefault(held, []).append(s["decoded_cache_bytes"] / 1e6)
                            notes.setdefault("daemon peak RSS MB", []).append(peak_rss_mb(m.pid))
                    with mounted(refs, options=options) as m:
                        ds = xr.open_zarr(str(m), consolidated=True)
                        seconds, gets = meter(lambda: check(ds.air.load().values))
                        runs.setdefault((label, "xarray .load()"), []).append((seconds, gets))
                seconds, gets = meter(lambda: check(zarr.open_array(fresh_fs().get_mapper("air"), mode="r")[...]))
                runs.setdefault(("(c) fsspec reference://", "zarr-python [:]"), []).append((seconds, gets))
                ds = xr.open_zarr(fresh_fs().get_mapper(""), consolidated=False)
                seconds, gets = meter(lambda: check(ds.air.load().values))
                runs.setdefault(("(c) fsspec reference://", "xarray .load()"), []).append((seconds, gets))
        finally:
            nginx.stop()

    median = {key: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
              for key, values in runs.items()}
    anchor = median[("(c) fsspec reference://", "zarr-python [:]")][0]
    raw_mb = DAYS * NY * NX * 4 / 1e6
    lines = [f"float32 air(365, 190, 190): {raw_mb:.0f} MB decoded, shuffle + zlib, one chunk per day in one "
             f"netCDF4 file; nginx adds {args.latency * 1000:.0f} ms to every request; {os.cpu_count()} cores. "
             "Cold: a fresh mount or fsspec instance each time; values checked against netCDF4.",
             "",
             "| path | reader | seconds | × (c) zarr-python | GETs |",
             "|---|---|---|---|---|"]
    for (path_label, reader), (seconds, gets) in median.items():
        lines.append(f"| {path_label} | {reader} | {seconds:.3f} | {seconds / anchor:.2f} | {gets:.0f} |")
    lines += ["", "With -o decode: " + ", ".join(f"{name} {statistics.median(values):.0f}"
                                                for name, values in notes.items()) + "."]
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "decode.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} with `/usr/bin/python3 bench/run_decode.py` "
        f"(medians of {args.runs} runs).\n\n{table}\n")


if __name__ == "__main__":
    main()
