"""Combine benchmark: many per-file reference sets → one, and scanning plus combining real files
with one and two worker processes.

Usage: /usr/bin/python3 bench/run_combine.py
Run from the repository root after scripts/build. Inputs go to build/bench-data/combine/. Prints
a Markdown table and writes it to bench/results/combine.md.

1. 10,000 per-file reference sets (version 1, as kerchunkfs-scan writes them), each a daily file
   with a time coordinate (inline), lat and lon (inline, checked identical across files) and one
   variable of 100 chunk references: 1,000,000 chunk references in all, combined along time.
2. 500 real netCDF4 files (two days each, 3 variables of 4 chunks) scanned and combined in one
   run, with -j 1 and -j 2.
"""

import json
import subprocess
import time
from pathlib import Path

import netCDF4
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "build" / "bench-data" / "combine"
SCAN = REPO / "build" / "scanner" / "kerchunkfs-scan"
FILES = 10_000


def per_file_sets():
    directory = DATA / "sets"
    if (directory / f"day{FILES - 1:05d}.json").exists():
        return sorted(directory.glob("*.json"))
    directory.mkdir(parents=True, exist_ok=True)
    lat = np.linspace(-90, 90, 100).astype("<f4").tobytes()
    lon = np.linspace(0, 360, 100, endpoint=False).astype("<f4").tobytes()
    import base64
    for day in range(FILES):
        url = f"s3://archive/daily/day{day:05d}.nc"
        refs = {
            ".zgroup": '{"zarr_format": 2}',
            ".zattrs": json.dumps({"title": "daily"}),
            "time/.zarray": json.dumps({"chunks": [1], "compressor": None, "dtype": "<f8", "fill_value": None,
                                        "filters": None, "order": "C", "shape": [1], "zarr_format": 2}),
            "time/.zattrs": json.dumps({"_ARRAY_DIMENSIONS": ["time"], "units": "days since 2000-01-01",
                                        "calendar": "standard"}),
            "time/0": "base64:" + base64.b64encode(np.array([day], "<f8").tobytes()).decode(),
        }
        for name, values in (("lat", lat), ("lon", lon)):
            refs[f"{name}/.zarray"] = json.dumps({"chunks": [100], "compressor": None, "dtype": "<f4", "fill_value": None,
                                                  "filters": None, "order": "C", "shape": [100], "zarr_format": 2})
            refs[f"{name}/.zattrs"] = json.dumps({"_ARRAY_DIMENSIONS": [name]})
            refs[f"{name}/0"] = "base64:" + base64.b64encode(values).decode()
        refs["t2m/.zarray"] = json.dumps({"chunks": [1, 10, 10], "compressor": {"id": "zlib", "level": 4}, "dtype": "<f4",
                                          "fill_value": "NaN", "filters": None, "order": "C", "shape": [1, 100, 100],
                                          "zarr_format": 2})
        refs["t2m/.zattrs"] = json.dumps({"_ARRAY_DIMENSIONS": ["time", "lat", "lon"], "units": "K"})
        for i in range(10):
            for j in range(10):
                refs[f"t2m/0.{i}.{j}"] = [url, 4096 + (i * 10 + j) * 300, 300]
        (directory / f"day{day:05d}.json").write_text(json.dumps({"version": 1, "refs": refs}))
    return sorted(directory.glob("*.json"))


def real_files(count=500):
    directory = DATA / "netcdf"
    paths = [directory / f"day{i:04d}.nc" for i in range(count)]
    if paths[-1].exists():
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, path in enumerate(paths):
        with netCDF4.Dataset(path, "w") as nc:
            nc.createDimension("time", None)
            nc.createDimension("y", 20)
            nc.createDimension("x", 20)
            t = nc.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            t[:] = [2 * i, 2 * i + 1]
            for v in range(3):
                var = nc.createVariable(f"v{v}", "f4", ("time", "y", "x"), zlib=True, chunksizes=(2, 10, 10))
                var[:] = rng.normal(size=(2, 20, 20))
    return paths


def measure(command):
    """Wall seconds and peak resident MB of one run."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, command)], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, int(out.stderr.strip().splitlines()[-1]) / 1024


def best_of(command, runs=3):
    results = [measure(command) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main():
    sets = per_file_sets()
    listing = DATA / "sets.txt"
    listing.write_text("".join(f"{p}\n" for p in sets))
    out = DATA / "combined.json"
    seconds, megabytes = best_of([SCAN, "combine", "--concat-dim", "time", f"@{listing}", "-o", out, "-q"])
    references = len(json.loads(out.read_text())["refs"])
    rows = [f"| combine 10,000 per-file sets ({references:,} references out) | {seconds:.2f} s | {megabytes:.0f} MB |"]
    zst = DATA / "combined.json.zst"
    seconds, megabytes = best_of([SCAN, "combine", "--concat-dim", "time", f"@{listing}", "-o", zst, "-q"])
    rows.append(f"| the same, written as .json.zst ({zst.stat().st_size / 1e6:.1f} MB vs {out.stat().st_size / 1e6:.0f} MB) "
                f"| {seconds:.2f} s | {megabytes:.0f} MB |")
    files = real_files()
    for jobs in (1, 2):
        seconds, megabytes = best_of([SCAN, "--concat-dim", "time", *files, "-o", DATA / "scanned.json", "-q",
                                      "-j", jobs])
        rows.append(f"| scan and combine 500 netCDF4 files, -j {jobs} | {seconds:.2f} s | {megabytes:.0f} MB |")
    table = "\n".join(["| job | wall time (best of 3) | peak resident |", "|---|---|---|", *rows])
    print(table)
    (REPO / "bench" / "results" / "combine.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on 2 cores with `/usr/bin/python3 bench/run_combine.py`.\n\n{table}\n")


if __name__ == "__main__":
    main()
