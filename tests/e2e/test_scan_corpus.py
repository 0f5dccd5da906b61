"""Real-world HDF5 files shipped in Debian packages: PyTables' test files (python-tables-data),
h5py's test data (python3-h5py) and HDF Compass's examples (hdf-compass-doc). Every dataset
kerchunkfs-scan references or inlines reads back, through the mount and through fsspec, as h5py
reads it from the original."""

import glob
import json
from pathlib import Path

import fsspec
import h5py
import numpy as np
import pytest
import zarr

from conftest import scan

# corpus → (Debian package, file patterns)
CORPORA = {
    "pytables": ("python-tables-data", ["/usr/share/python-tables/**/*.h5"]),
    "h5py": ("python3-h5py", ["/usr/lib/python3/dist-packages/h5py/*/tests/data_files/*.h5"]),
    "hdf-compass": ("hdf-compass-doc", ["/usr/share/doc/hdf-compass/examples/hdf5/*.h5",
                                        "/usr/share/doc/hdf-compass/examples/bag/*.bag"]),
}


def corpus_files(name):
    return sorted({Path(p) for pattern in CORPORA[name][1] for p in glob.glob(pattern, recursive=True)})


def assert_same(got, expected, where):
    if got.dtype.kind == "O":  # variable-length values: h5py gives strings as bytes, zarr as str
        assert got.shape == expected.shape, where
        for g, e in zip(got.ravel(), expected.ravel()):
            if isinstance(e, bytes):
                e = e.decode()
            if isinstance(e, np.ndarray):
                # h5py 3.7 hands big-endian sequences over unswapped but labelled native: the raw
                # bytes are what both sides agree on.
                assert (g.dtype.kind, g.dtype.itemsize) == (e.dtype.kind, e.dtype.itemsize), where
                assert g.tobytes() == e.tobytes(), where
            else:
                assert g == e, where
        return
    if expected.dtype.names and expected.dtype != got.dtype:
        # Compound members come packed and in the order they sit in the file (numpy's list form
        # cannot say otherwise): the same fields with the same values.
        assert sorted(got.dtype.names) == sorted(expected.dtype.names), where
        for field in expected.dtype.names:
            assert_same(got[field], expected[field], f"{where}.{field}")
        return
    assert got.dtype == expected.dtype, (where, got.dtype, expected.dtype)
    assert got.shape == expected.shape and got.tobytes() == expected.tobytes(), where


def every_chunk_present(refs, name):
    meta = json.loads(refs[f"{name}/.zarray"])
    grid = np.prod([-(-s // c) for s, c in zip(meta["shape"], meta["chunks"])]) if meta["shape"] else 1
    return sum(1 for k in refs if k.startswith(name + "/") and "/." not in k[len(name):]) == grid


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_every_dataset_scanned_in_a_real_world_corpus_reads_back_as_h5py_reads_it(tmp_path, mounts, corpus):
    files = corpus_files(corpus)
    if not files:
        pytest.skip(f"{CORPORA[corpus][0]} is not installed (Debian package with the {corpus} files)")
    checked = 0
    for index, path in enumerate(files):
        out = tmp_path / f"{index}.json"
        result = scan(path, "-o", out, "-q", "--skip-unsupported", check=False)
        assert result.returncode in (0, 1), result.stderr  # 1: not HDF5 at all (a few are deliberately broken)
        if not out.exists() or result.returncode != 0:
            continue
        refs = json.loads(out.read_text())["refs"]
        arrays = [key[: -len("/.zarray")] for key in refs if key.endswith("/.zarray")]
        if not arrays:
            continue
        m = mounts(out)
        # fsspec 2022.11 raises KeyError on never-written chunks: it reads the arrays that have none.
        fs = fsspec.filesystem("reference", fo=str(out))
        with h5py.File(path, "r") as f:
            for name in arrays:
                expected = np.asarray(f[name][()])
                assert_same(zarr.open_array(str(m.path(name)), mode="r")[...], expected, f"{path}:{name}")
                if every_chunk_present(refs, name):
                    assert_same(zarr.open_array(fs.get_mapper(name), mode="r")[...], expected, f"fsspec {path}:{name}")
                checked += 1
        m.unmount()
    assert checked >= {"pytables": 150, "h5py": 6, "hdf-compass": 8}[corpus]
