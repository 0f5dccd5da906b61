"""Scan-speed benchmark: kerchunkfs-scan against h5py's get_chunk_info(i) loop (what kerchunk does).

Usage: /usr/bin/python3 bench/run_scan.py
Run from the repository root after scripts/build. Files go to build/bench-data/scan/. Prints a
Markdown table and writes it to bench/results/scan.md.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import netCDF4
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "build" / "bench-data" / "scan"
SCAN = REPO / "build" / "scanner" / "kerchunkfs-scan"


def many_chunks(n):
    path = DATA / f"chunks-{n}.h5"
    if not path.exists():
        with h5py.File(path, "w") as f:
            f.create_dataset("x", data=np.arange(n, dtype="i1"), chunks=(1,))
    return path


def typical(i):
    """A netCDF4 file of 10 variables with 100 zlib chunks each."""
    path = DATA / "typical" / f"file{i:03d}.nc"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with netCDF4.Dataset(path, "w") as nc:
            nc.createDimension("time", 100)
            nc.createDimension("y", 20)
            nc.createDimension("x", 20)
            rng = np.random.default_rng(i)
            for v in range(10):
                var = nc.createVariable(f"v{v}", "f4", ("time", "y", "x"), zlib=True, chunksizes=(1, 20, 20))
                var[:] = rng.normal(size=(100, 20, 20))
    return path


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ours(paths, out):
    subprocess.run([str(SCAN), *map(str, paths), "--out-dir", str(out), "-q"], check=True)


def h5py_loop(path):
    """Every chunk's location the way kerchunk's SingleHdf5ToZarr finds them."""
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.chunks:
            dsid = obj.id
            for i in range(dsid.get_num_chunks()):
                dsid.get_chunk_info(i)
    with h5py.File(path) as f:
        f.visititems(visit)


def main():
    DATA.mkdir(parents=True, exist_ok=True)
    out = DATA / "out"
    out.mkdir(exist_ok=True)
    rows = []
    for n in (16_000, 32_000, 64_000):
        path = many_chunks(n)
        rows.append((f"one dataset, {n:,} chunks", f"{min(timed(lambda: ours([path], out)) for _ in range(3)):.3f} s",
                     f"{timed(lambda: h5py_loop(path)):.2f} s"))
    path = many_chunks(1_000_000)
    rows.append(("one dataset, 1,000,000 chunks", f"{min(timed(lambda: ours([path], out)) for _ in range(3)):.2f} s",
                 "not run (quadratic: hours)"))
    files = [typical(i) for i in range(50)]
    batch = min(timed(lambda: ours(files, out)) for _ in range(5))  # best of 5: milliseconds are noisy
    loop = min(timed(lambda: [h5py_loop(p) for p in files]) for _ in range(5))
    rows.append(("netCDF4 file, 10 variables x 100 chunks (batch of 50)",
                 f"{batch / len(files) * 1000:.1f} ms per file", f"{loop / len(files) * 1000:.1f} ms per file"))

    lines = ["| input | kerchunkfs-scan (whole scan, JSON written) | h5py get_chunk_info loop (locations only) |",
             "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "scan.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with `/usr/bin/python3 bench/run_scan.py` "
        f"(HDF5 1.10.8, h5py {h5py.__version__}).\n\n{table}\n")


if __name__ == "__main__":
    sys.exit(main())
