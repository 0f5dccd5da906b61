"""Real-world HDF5 files from Debian's python-tables-data (PyTables' test files): every dataset
kerchunkfs-scan references or inlines reads back, through the mount, as h5py reads it."""

import json
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

from conftest import scan

CORPUS = sorted(Path("/usr/share/python-tables").rglob("*.h5")) if Path("/usr/share/python-tables").exists() else []


@pytest.mark.skipif(not CORPUS, reason="python-tables-data is not installed (Debian package with PyTables' test files)")
def test_every_dataset_referenced_in_the_pytables_corpus_reads_back_as_h5py_reads_it(tmp_path, mounts):
    checked = 0
    for index, path in enumerate(CORPUS):
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
        with h5py.File(path, "r") as f:
            for name in arrays:
                expected = np.asarray(f[name][()])
                got = zarr.open_array(str(m.path(name)), mode="r")[...]
                if got.dtype.kind == "O":  # variable-length strings: h5py gives bytes, zarr str
                    expected = np.array([v.decode() if isinstance(v, bytes) else v for v in expected.ravel()],
                                        dtype=object).reshape(expected.shape)
                np.testing.assert_array_equal(got, expected, err_msg=f"{path}:{name}")
                checked += 1
        m.unmount()
    assert checked > 100
