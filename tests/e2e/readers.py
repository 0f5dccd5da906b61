"""Independent implementations the tests compare with: zarr readers other than zarr-python, run on
a directory — zarrita.js (npm, Node), GDAL's multidimensional API (python3-gdal) and netCDF-C's
NCZarr (python3-netcdf4), each returning {array name: numpy array} for the arrays it read and
{array name: error text} for the others — and npm packages run as Node scripts."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
ZARRITA_VERSION = "0.7"
ZARRITA_STORAGE_VERSION = "0.2"


def npm_unavailable_reason(packages, install_dir=REPO / "build" / "node"):
    """Installs the npm packages ({name: version}) into `install_dir` when they are not there yet;
    why they cannot be had, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return f"node and npm are needed for {', '.join(packages)}"
    missing = [f"{name}@{version}" for name, version in packages.items()
               if not (Path(install_dir) / "node_modules" / name).exists()]
    if missing:
        out = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(install_dir),
                              *missing], capture_output=True, text=True)
        if out.returncode != 0:
            return f"npm could not install {' '.join(missing)}: {out.stderr.strip()[-300:]}"
    return None


def zarrita_unavailable_reason(install_dir=REPO / "build" / "node"):
    return npm_unavailable_reason({"zarrita": ZARRITA_VERSION, "@zarrita/storage": ZARRITA_STORAGE_VERSION}, install_dir)


def run_node(script, *args, install_dir=REPO / "build" / "node"):
    """Runs one of this folder's ES module scripts from `install_dir`, where its packages resolve."""
    target = Path(install_dir) / Path(script).name
    shutil.copyfile(Path(__file__).parent / script, target)
    return subprocess.run(["node", str(target), *map(str, args)], capture_output=True, text=True, timeout=300)


def read_zarrita(root, names, install_dir=REPO / "build" / "node"):
    out = run_node("zarrita_read.mjs", root, *names, install_dir=install_dir)
    assert out.returncode == 0, out.stderr
    values, errors = {}, {}
    for line in out.stdout.splitlines():
        item = json.loads(line)
        if "error" in item:
            errors[item["path"]] = item["error"]
        else:
            values[item["path"]] = np.array(item["values"]).reshape(item["shape"])
    return values, errors


def read_gdal(root, names):
    return _isolated("gdal", root, names)


def read_nczarr(root, names):
    return _isolated("nczarr", root, names)


def _isolated(reader, root, names):
    """Reads in a child process, so that a reader that crashes (NCZarr does, on compressed chunks
    it takes for raw ones) fails that array alone: it is reported as "crashed", and the child
    starts again with the next array."""
    import tempfile
    values, errors = {}, {}
    remaining = list(names)
    with tempfile.TemporaryDirectory() as out:
        while remaining:
            run = subprocess.run(["/usr/bin/python3", str(Path(__file__).parent / "read_arrays.py"), reader,
                                  str(root), out, *remaining], capture_output=True, text=True, timeout=300)
            finished = [line.split(" ", 1) for line in run.stdout.splitlines()]
            for name, result in finished:
                if result == "ok":
                    values[name] = np.load(Path(out) / f"{name}.npy")
                else:
                    errors[name] = result
            remaining = remaining[len(finished):]
            if remaining and run.returncode != 0:
                errors[remaining.pop(0)] = f"crashed ({run.returncode})"
    return values, errors
