"""Reading HDF5 data through the mount equals reading the file with h5py."""

import errno
import json
import os

import h5py
import numpy as np
import pytest
import zarr

import h5refs
from conftest import write_refs


def make_hdf5(path):
    rng = np.random.default_rng(42)
    with h5py.File(path, "w") as f:
        f.attrs["title"] = "kerchunkfs test"
        f.create_dataset("gzip_shuffle", data=rng.normal(size=(37, 29)).astype("<f4"), chunks=(8, 10),
                         compression="gzip", shuffle=True)
        f.create_dataset("raw_chunks", data=np.arange(1000, dtype=">i8").reshape(40, 25), chunks=(16, 16))
        f.create_dataset("contiguous", data=rng.integers(0, 255, size=(50, 3), dtype="u1"))
        g = f.create_group("group/nested")
        g.attrs["depth"] = 2
        g.create_dataset("values", data=np.linspace(0, 1, 300).reshape(3, 100), chunks=(1, 64),
                         compression="gzip", compression_opts=9)
        sparse = f.create_dataset("sparse", shape=(100,), chunks=(10,), dtype="<i2", fillvalue=-7)
        sparse[20:35] = np.arange(15)
        sparse[90:] = 1
    return path


@pytest.fixture
def hdf5_file(tmp_path):
    return make_hdf5(tmp_path / "data.h5")


def all_datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def test_chunk_files_are_the_bytes_in_the_file(hdf5_file, tmp_path, mounts):
    refs = h5refs.build(hdf5_file)
    m = mounts(write_refs(tmp_path / "refs.json", refs))
    raw = hdf5_file.read_bytes()
    checked = 0
    for key, value in refs.items():
        if isinstance(value, list):
            _, offset, length = value
            data = m.path(key).read_bytes()
            assert data == raw[offset:offset + length], key
            assert os.stat(m.path(key)).st_size == length
            checked += 1
    assert checked > 30


def test_zarr_reads_what_h5py_reads(hdf5_file, tmp_path, mounts):
    m = mounts(write_refs(tmp_path / "refs.json", h5refs.build(hdf5_file)))
    group = zarr.open_group(str(m.path()), mode="r")
    expected = all_datasets(hdf5_file)
    assert len(expected) == 5
    for name, values in expected.items():
        got = group[name][...]
        assert got.dtype == values.dtype, name
        np.testing.assert_array_equal(got, values, err_msg=name)
    assert group.attrs["title"] == "kerchunk test".replace("kerchunk", "kerchunkfs")
    assert group["group/nested"].attrs["depth"] == 2


def test_missing_chunks_read_as_the_fill_value(hdf5_file, tmp_path, mounts):
    refs = h5refs.build(hdf5_file)
    stored = sorted(k for k in refs if k.startswith("sparse/") and not k.endswith((".zarray", ".zattrs")))
    assert stored == ["sparse/2", "sparse/3", "sparse/9"]  # chunks 0, 1, 4-8 were never written
    m = mounts(write_refs(tmp_path / "refs.json", refs))
    assert not m.path("sparse/0").exists()
    with pytest.raises(FileNotFoundError):
        m.path("sparse/5").read_bytes()
    with h5py.File(hdf5_file) as f:
        expected = f["sparse"][()]
    assert (expected == -7).sum() == 75
    np.testing.assert_array_equal(zarr.open_array(str(m.path("sparse")), mode="r")[...], expected)


def test_inline_base64_chunks_and_json_object_metadata(hdf5_file, tmp_path, mounts):
    # Small chunks inlined as base64 and metadata written as JSON objects rather than strings,
    # both forms kerchunk and fsspec accept.
    refs = h5refs.build(hdf5_file, inline_threshold=600)
    inlined = [k for k, v in refs.items() if isinstance(v, str) and v.startswith("base64:")]
    ranged = [k for k, v in refs.items() if isinstance(v, list)]
    assert len(inlined) >= 10 and len(ranged) >= 5
    refs = {k: (json.loads(v) if k.endswith((".zarray", ".zgroup")) else v) for k, v in refs.items()}
    m = mounts(write_refs(tmp_path / "refs.json", refs))
    group = zarr.open_group(str(m.path()), mode="r")
    for name, values in all_datasets(hdf5_file).items():
        np.testing.assert_array_equal(group[name][...], values, err_msg=name)


def test_directory_tree_matches_the_keys(hdf5_file, tmp_path, mounts):
    refs = h5refs.build(hdf5_file)
    m = mounts(write_refs(tmp_path / "refs.json", refs))
    files = set()
    directories = set()
    for root, dirs, names in os.walk(m.path()):
        rel = os.path.relpath(root, m.path())
        prefix = "" if rel == "." else rel + "/"
        directories.update(prefix + d for d in dirs)
        files.update(prefix + n for n in names)
    assert files == set(refs) | {".zmetadata"}  # and the synthesized consolidated metadata
    assert directories == {k.rsplit("/", 1)[0] for k in refs if "/" in k} | {"group"}
    for key, value in refs.items():
        expected = value[2] if isinstance(value, list) else len(value.encode())
        assert os.stat(m.path(key)).st_size == expected, key


def test_relative_urls_resolve_against_the_reference_file(hdf5_file, tmp_path, mounts, monkeypatch):
    refs = h5refs.build(hdf5_file, url="data.h5")
    refs_path = write_refs(tmp_path / "refs.json", refs)
    monkeypatch.chdir("/")
    m = mounts(os.path.relpath(refs_path, "/"))
    with h5py.File(hdf5_file) as f:
        np.testing.assert_array_equal(zarr.open_array(str(m.path("raw_chunks")), mode="r")[...], f["raw_chunks"][()])


def test_null_urls_use_the_default_target(hdf5_file, tmp_path, mounts):
    refs = h5refs.build(hdf5_file)
    refs = {k: ([None, *v[1:]] if isinstance(v, list) else v) for k, v in refs.items()}
    refs_path = write_refs(tmp_path / "refs.json", refs)
    m = mounts(refs_path, "-o", f"target={hdf5_file}")
    with h5py.File(hdf5_file) as f:
        np.testing.assert_array_equal(zarr.open_array(str(m.path("gzip_shuffle")), mode="r")[...], f["gzip_shuffle"][()])


def test_whole_file_references(tmp_path, mounts):
    blob = os.urandom(300_000)
    (tmp_path / "blob.bin").write_bytes(blob)
    m = mounts(write_refs(tmp_path / "refs.json", {"dir/whole": ["blob.bin"], "dir/part": ["blob.bin", 1000, 5000]}))
    assert os.stat(m.path("dir/whole")).st_size == len(blob)
    assert m.path("dir/whole").read_bytes() == blob
    assert m.path("dir/part").read_bytes() == blob[1000:6000]
    with open(m.path("dir/whole"), "rb") as f:
        f.seek(299_990)
        assert f.read(100) == blob[299_990:]
    assert sorted(os.listdir(m.path("dir"))) == ["part", "whole"]


def test_read_only(hdf5_file, tmp_path, mounts):
    m = mounts(write_refs(tmp_path / "refs.json", h5refs.build(hdf5_file)))
    for action in (lambda: open(m.path("new"), "w"), lambda: open(m.path(".zgroup"), "r+"),
                   lambda: os.mkdir(m.path("d")), lambda: os.unlink(m.path(".zgroup"))):
        with pytest.raises(OSError) as error:
            action()
        assert error.value.errno == errno.EROFS
