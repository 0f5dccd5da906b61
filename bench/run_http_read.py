"""Remote-read benchmark: kerchunkfs against fsspec and h5py, behind 20 ms per request.

Usage: /usr/bin/python3 bench/run_http_read.py [--latency 0.02] [--runs 1]
Run from the repository root after scripts/build; needs nginx-light, libnginx-mod-http-echo and
python3-aiohttp (for fsspec's HTTP filesystem). Datasets go to build/bench-data/http/:
  A: one netCDF4 file, float32 air(time=365, 190, 190), one zlib chunk per day, chunks contiguous
  B: the same data as 365 daily files of one chunk each (no two chunks share a URL)
  B with local targets: B's references pointing at the files on disk, what the mount costs
  without any network (the floor for its cold reads)
  plain files: the 365 chunks as files on the local disk, from the page cache: what `cat` and
  a serial reader cost with neither FUSE nor network
Prints a Markdown table and writes it to bench/results/http_read.md.
"""

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fsspec
import h5py
import netCDF4
import numpy as np
import xarray as xr
import zarr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import h5refs  # noqa: E402
from servers import Nginx  # noqa: E402

DATA = REPO / "build" / "bench-data" / "http"
DAEMON = REPO / "build" / "daemon" / "kerchunkfs"
DAYS, NY, NX = 365, 190, 190


def write_day(path, values, day):
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", values.shape[0])
        nc.createDimension("y", NY)
        nc.createDimension("x", NX)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 2024-01-01"
        t[:] = np.arange(day, day + values.shape[0])
        air = nc.createVariable("air", "f4", ("time", "y", "x"), zlib=True, chunksizes=(1, NY, NX))
        air[:] = values


def make_datasets():
    DATA.mkdir(parents=True, exist_ok=True)
    if (DATA / "A.nc").exists() and (DATA / f"B/day{DAYS - 1:03d}.nc").exists():
        return
    rng = np.random.default_rng(0)
    base = np.linspace(250, 300, NY, dtype="f4")[None, :, None]
    values = (base + rng.normal(0, 3, size=(DAYS, NY, NX))).astype("f4")
    write_day(DATA / "A.nc", values, 0)
    (DATA / "B").mkdir(exist_ok=True)
    for day in range(DAYS):
        write_day(DATA / "B" / f"day{day:03d}.nc", values[day:day + 1], day)


def references(nginx):
    refs_a = h5refs.build_netcdf(DATA / "A.nc", url=nginx.url("A.nc", slow=True))
    refs_b = {k: v for k, v in refs_a.items() if not k.startswith("air/") or k.startswith("air/.")}
    for day in range(DAYS):
        path = DATA / "B" / f"day{day:03d}.nc"
        with h5py.File(path) as f:
            (offset, length), = h5refs.chunk_references(f["air"]).values()
        refs_b[f"air/{day}.0.0"] = [nginx.url(f"B/day{day:03d}.nc", slow=True), offset, length]
    out = {}
    for name, refs in (("A", refs_a), ("B", refs_b)):
        out[name] = DATA / f"refs-{name}.json"
        out[name].write_text(json.dumps(refs))
    return out


class Mount(type(Path())):
    """A mount point, and the pid of the daemon serving it."""

    pid = None


@contextlib.contextmanager
def mounted(refs, daemon=DAEMON, options=()):
    """A fresh mount of `refs` (options: more -o values); the daemon's pid is the mount's `pid`."""
    with tempfile.TemporaryDirectory() as mountpoint:
        extra = [arg for option in options for arg in ("-o", option)]
        process = subprocess.Popen([str(daemon), str(refs), mountpoint, "-f", "-o", "log_level=error", *extra])
        while not os.path.ismount(mountpoint):
            if process.poll() is not None:
                raise RuntimeError("kerchunkfs exited")
            time.sleep(0.005)
        try:
            mount = Mount(mountpoint)
            mount.pid = process.pid
            yield mount
        finally:
            subprocess.run(["fusermount3", "-u", mountpoint], check=True)
            process.wait()


class Meter:
    """Times a call and counts the GETs nginx logged meanwhile."""

    def __init__(self, nginx):
        self.nginx = nginx

    def gets(self):
        log = self.nginx.access_log
        return sum(1 for _ in open(log)) if log.exists() else 0

    def settled(self):
        """The log's length once it has stopped growing: requests of an earlier mount (read-ahead
        still in flight when it was unmounted) are logged when they end, not in the next window."""
        count = self.gets()
        while True:
            time.sleep(0.3)
            now = self.gets()
            if now == count:
                return count
            count = now

    def __call__(self, fn):
        before = self.settled()
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        time.sleep(0.05)  # let nginx flush its log
        return seconds, self.gets() - before


def cat(paths):
    """`cat` of the files, in this order, in one process: raw bytes, no Python in the loop."""
    subprocess.run(["cat", *map(str, paths)], stdout=subprocess.DEVNULL, check=True)


def serial(paths):
    """Each file opened, read whole and closed, in this order: what zarr-python's DirectoryStore
    does for every chunk."""
    for path in paths:
        with open(path, "rb") as f:
            f.read()


def random_days(seed=1, n=50):
    return random.Random(seed).sample(range(DAYS), n)


def bench_mount(meter, refs):
    rows = {}
    keys = [f"air/{t}.0.0" for t in range(DAYS)]
    with mounted(refs) as m:
        rows["serial read of every chunk, cold"] = meter(lambda: serial(m / k for k in keys))
    with mounted(refs) as m:
        rows["cat every chunk, cold"] = meter(lambda: cat(m / k for k in keys))
        rows["cat every chunk, warm"] = meter(lambda: cat(m / k for k in keys))
    with mounted(refs) as m:
        ds = xr.open_zarr(str(m), consolidated=False)
        rows["xarray whole variable, cold"] = meter(lambda: ds.air.values)
        ds = xr.open_zarr(str(m), consolidated=False)
        rows["xarray whole variable, warm"] = meter(lambda: ds.air.values)
    with mounted(refs) as m:
        rows["zarr whole variable, cold"] = meter(lambda: zarr.open_array(str(m / "air"), mode="r")[...])
    with mounted(refs) as m:
        rows["cat 50 random chunks, cold"] = meter(lambda: [cat([m / f"air/{t}.0.0"]) for t in random_days()])
    with mounted(refs) as m:
        ds = xr.open_zarr(str(m), consolidated=False)
        rows["xarray 50 random days, cold"] = meter(lambda: [ds.air.isel(time=t).values for t in random_days()])
    return rows


def bench_fsspec(meter, refs):
    rows = {}
    keys = [f"air/{t}.0.0" for t in range(DAYS)]

    def fs():
        return fsspec.filesystem("reference", fo=str(refs), remote_protocol="http", skip_instance_cache=True)

    rows["cat every chunk, cold"] = meter(lambda: fs().cat(keys))
    random_fs = fs()
    rows["cat 50 random chunks, cold"] = meter(lambda: [random_fs.cat_file(f"air/{t}.0.0") for t in random_days()])
    rows["zarr whole variable, cold"] = meter(lambda: zarr.open_array(fs().get_mapper("air"), mode="r")[...])
    ds = xr.open_zarr(fs().get_mapper(""), consolidated=False)
    rows["xarray whole variable, cold"] = meter(lambda: ds.air.values)
    ds = xr.open_zarr(fs().get_mapper(""), consolidated=False)
    rows["xarray 50 random days, cold"] = meter(lambda: [ds.air.isel(time=t).values for t in random_days()])
    return rows


def bench_local_targets(meter, refs, nginx):
    """The same chunk references with local paths for targets: what the mount costs with no network."""
    prefix = nginx.url("", slow=True)
    local = {k: ([str(DATA / v[0][len(prefix):]), *v[1:]] if isinstance(v, list) else v)
             for k, v in json.loads(refs.read_text()).items()}
    local_refs = refs.with_name(refs.stem + "-local.json")
    local_refs.write_text(json.dumps(local))
    keys = [f"air/{t}.0.0" for t in range(DAYS)]
    rows = {}
    with mounted(local_refs, options=(f"allow_local={DATA}",)) as m:
        rows["serial read of every chunk, cold"] = meter(lambda: serial(m / k for k in keys))
    with mounted(local_refs, options=(f"allow_local={DATA}",)) as m:
        rows["cat every chunk, cold"] = meter(lambda: cat(m / k for k in keys))
    return rows


def bench_local_disk(meter, refs):
    """The chunks' bytes as plain files on the local disk, read from the page cache: what `cat`
    and a serial reader cost with no FUSE and no network at all."""
    directory = DATA / "chunk-files"
    directory.mkdir(exist_ok=True)
    keys = [f"air/{t}.0.0" for t in range(DAYS)]
    paths = [directory / f"{t}" for t in range(DAYS)]
    table = json.loads(refs.read_text())
    for key, path in zip(keys, paths):
        _, offset, length = table[key]
        with open(DATA / "A.nc", "rb") as f:
            f.seek(offset)
            path.write_bytes(f.read(length))
    serial(paths)  # into the page cache
    return {"serial read of every chunk, warm": meter(lambda: serial(paths)),
            "cat every chunk, warm": meter(lambda: cat(paths))}


def bench_h5py(meter, url):
    rows = {}

    def whole():
        with fsspec.filesystem("http", skip_instance_cache=True).open(url) as f, h5py.File(f) as h:
            h["air"][...]

    def days():
        with fsspec.filesystem("http", skip_instance_cache=True).open(url) as f, h5py.File(f) as h:
            for t in random_days():
                h["air"][t]

    rows["h5py whole variable, cold"] = meter(whole)
    rows["h5py 50 random days, cold"] = meter(days)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3, help="each figure is the median of this many runs")
    args = parser.parse_args()
    make_datasets()
    with tempfile.TemporaryDirectory() as work:
        nginx = Nginx(DATA, work, latency_s=args.latency)
        try:
            meter = Meter(nginx)
            refs = references(nginx)
            compressed = sum(v[2] for k, v in json.loads(refs["A"].read_text()).items()
                             if k.startswith("air/") and isinstance(v, list))
            runs = {}
            for _ in range(args.runs):
                for name in ("A", "B"):
                    for label, value in bench_mount(meter, refs[name]).items():
                        runs.setdefault((name, "kerchunkfs mount", label), []).append(value)
                    for label, value in bench_fsspec(meter, refs[name]).items():
                        runs.setdefault((name, "fsspec reference://", label), []).append(value)
                for label, value in bench_local_targets(meter, refs["B"], nginx).items():
                    runs.setdefault(("B", "kerchunkfs mount, local targets", label), []).append(value)
                for label, value in bench_local_disk(meter, refs["A"]).items():
                    runs.setdefault(("-", "plain files on local disk (no FUSE)", label), []).append(value)
                for label, value in bench_h5py(meter, nginx.url("A.nc", slow=True)).items():
                    runs.setdefault(("A", "h5py over HTTP (fsspec)", label), []).append(value)
            results = [(*key, statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
                       for key, values in runs.items()]
        finally:
            nginx.stop()

    warm = [r for r in results if r[1] == "kerchunkfs mount" and r[2] == "cat every chunk, warm"]
    lines = [f"Dataset A: {compressed / 1e6:.1f} MB in {DAYS} zlib chunks in one file; B: the same chunks in {DAYS} files. "
             f"nginx adds {args.latency * 1000:.0f} ms to every request. Cold means a fresh mount or a new "
             "fsspec instance; warm, the same mount again. Warm raw reads through the mount: "
             + ", ".join(f"{n}: {compressed / r[3] / 1e9:.2f} GB/s" for n, *_ in warm for r in [next(x for x in warm if x[0] == n)]) + ".",
             "",
             "| dataset | path | what | seconds | GETs | GETs per chunk | × fsspec |",
             "|---|---|---|---|---|---|---|"]
    fsspec_seconds = {(name, label): seconds for name, path, label, seconds, _ in results
                      if path == "fsspec reference://"}
    for name, path, label, seconds, gets in results:
        # A serial reader is held to fsspec's cat of the same keys (fsspec has no serial reader).
        anchor = fsspec_seconds.get(("B" if name == "-" else name,
                                     label.replace(", warm", ", cold").replace("serial read of", "cat")))
        ratio = f"{seconds / anchor:.2f}" if anchor and path != "fsspec reference://" else ""
        lines.append(f"| {name} | {path} | {label} | {seconds:.3f} | {gets:.0f} | {gets / DAYS:.2f} | {ratio} |")
    serial = DAYS * args.latency
    lines += ["", "Last column: × fsspec's time for the same reading (cold) in the same run; a serial read "
              "(each file opened, read and closed in key order, as zarr-python's DirectoryStore reads chunks) "
              "and the plain-file rows are held to fsspec's cold `cat` of the same keys.",
              "", f"Latency-bound limits with {args.latency * 1000:.0f} ms per request: a serial reader making one "
              f"request per chunk needs {serial:.1f} s; 50 random days need {50 * args.latency:.2f} s "
              "(each a request of its own); reading A with one request, "
              f"{args.latency:.2f} s plus transfer."]
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "http_read.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with "
        f"`/usr/bin/python3 bench/run_http_read.py` (medians of {args.runs} runs).\n\n{table}\n")


if __name__ == "__main__":
    main()
