"""kerchunkfs-scan: what it writes reads back, through the mount and through fsspec, as h5py and
netCDF4 read the original files."""

import json
import os

import fsspec
import h5py
import hdf5plugin
import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

from conftest import scan


def make_variety(path, tmp_path):
    rng = np.random.default_rng(11)
    with h5py.File(path, "w") as f:
        f.attrs["title"] = "variety"
        f.attrs["numbers"] = np.array([1.5, 2.5])
        f.attrs["count"] = np.int64(7)
        f.create_dataset("edges", data=rng.normal(size=(45, 33)).astype("<f4"), chunks=(10, 8),
                         compression="gzip", shuffle=True)
        sparse = f.create_dataset("sparse", shape=(100,), chunks=(10,), dtype=">i2", fillvalue=-9)
        sparse[30:50] = np.arange(20)
        f.create_dataset("contiguous", data=np.arange(600, dtype=">f8").reshape(20, 30))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        space = h5py.h5s.create_simple((12,))
        compact = h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_U64LE, space, dcpl=dcpl)
        compact.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(12, dtype="<u8") * 3)
        f.create_dataset("scalar", data=np.float64(3.25))
        f.create_dataset("half", data=np.linspace(0, 1, 50).astype("<f2"), chunks=(16,))
        f.create_dataset("bytes8", data=np.array([b"alpha", b"beta", b"gamma"], dtype="S8"))
        f.create_dataset("checked", data=np.arange(1000, dtype="<i4"), chunks=(100,), fletcher32=True)
        fill = f.create_dataset("fill37", shape=(10,), chunks=(5,), dtype="<f4", fillvalue=np.float32(1e37))
        fill[:5] = 1
        f.create_dataset("fillnan", shape=(4,), chunks=(2,), dtype="<f8", fillvalue=np.nan)
        g = f.create_group("a/b/c")
        g.attrs["deep"] = "yes"
        g.create_dataset("v", data=np.arange(10, dtype="<i8"))
        f["hardlink"] = f["contiguous"]
        f["softlink"] = h5py.SoftLink("/edges")
        f["external"] = h5py.ExternalLink("elsewhere.h5", "/x")
        f.create_dataset("nothing", data=h5py.Empty("f4"))
    return path


def datasets_of(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.shape is not None:
                out[name] = obj[()]
        f.visititems(visit)
        # visititems sees an object once and does not follow soft links: both link kinds by hand
        out["softlink"] = f["softlink"][()]
        out["hardlink"] = f["hardlink"][()]
    return out


def test_every_layout_type_and_filter_reads_back_as_h5py_reads_it(tmp_path, mounts):
    path = make_variety(tmp_path / "variety.h5", tmp_path)
    out = scan(path, "-o", tmp_path / "refs.json")
    assert "external: skipped: external link" in out.stderr
    assert "nothing: skipped: a null dataspace" in out.stderr
    m = mounts(tmp_path / "refs.json")
    group = zarr.open_group(str(m.path()), mode="r")
    expected = datasets_of(path)
    assert len(expected) == 13
    for name, values in expected.items():
        got = group[name][...]
        assert got.dtype == np.asarray(values).dtype, name
        np.testing.assert_array_equal(got, values, err_msg=name)
    assert group.attrs["title"] == "variety" and group.attrs["count"] == 7
    assert group.attrs["numbers"] == [1.5, 2.5]
    assert group["a/b/c"].attrs["deep"] == "yes"


def test_fill_values_are_exact_and_missing_chunks_read_as_them(tmp_path):
    path = make_variety(tmp_path / "variety.h5", tmp_path)
    scan(path, "-o", tmp_path / "refs.json")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert np.float32(json.loads(refs["fill37/.zarray"])["fill_value"]) == np.float32(1e37)
    assert json.loads(refs["fillnan/.zarray"])["fill_value"] == "NaN"
    assert json.loads(refs["sparse/.zarray"])["fill_value"] == -9
    assert "sparse/0" not in refs and "sparse/3" in refs  # never-written chunks stay absent
    # fsspec reads what we wrote (on a fully written array: fsspec 2022.11 raises KeyError for a
    # chunk that is absent, which zarr's batched reads do not absorb — with kerchunk's output too).
    fs = fsspec.filesystem("reference", fo=str(tmp_path / "refs.json"))
    with h5py.File(path) as f:
        np.testing.assert_array_equal(zarr.open_array(fs.get_mapper("edges"), mode="r")[...], f["edges"][()])


def test_netcdf4_through_the_mount_is_identical_to_the_netcdf4_engine(tmp_path, mounts):
    path = tmp_path / "weather.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.institution = "test"
        nc.revision = 3  # netCDF-C stores it as a one-element array; xarray shows a scalar
        nc.createDimension("time", None)
        nc.createDimension("station", 7)
        t = nc.createVariable("time", "i4", ("time",))
        t.units = "hours since 2020-01-01 00:00"
        t[:] = np.arange(48)
        s = nc.createVariable("station", "i2", ("station",))
        s[:] = np.arange(7) + 100
        p = nc.createVariable("pressure", "f8", ("time", "station"), zlib=True, chunksizes=(12, 7),
                              fill_value=-999.0)
        p.units = "hPa"
        p.accuracy = np.float32(0.5)
        p.valid_range = np.array([800.0, 1100.0])
        p[:] = np.random.default_rng(5).uniform(950, 1050, size=(48, 7))
        p[5, 3] = np.ma.masked
        g = nc.createGroup("forecast")
        g.createDimension("lead", 3)
        v = g.createVariable("skill", "f4", ("lead",))
        v[:] = [0.9, 0.8, 0.5]
    scan(path, "-o", tmp_path / "refs.json")
    m = mounts(tmp_path / "refs.json")
    xr.testing.assert_identical(xr.open_zarr(str(m.path()), consolidated=False),
                                xr.open_dataset(path, engine="netcdf4"))
    xr.testing.assert_identical(xr.open_zarr(str(m.path()), group="forecast", consolidated=False),
                                xr.open_dataset(path, engine="netcdf4", group="forecast"))


def test_filters_without_a_codec_are_refused_by_name_unless_skipped(tmp_path):
    path = tmp_path / "lz4.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("packed", data=np.arange(1000), chunks=(100,), **hdf5plugin.LZ4())
        f.create_dataset("plain", data=np.arange(10))
    out = scan(path, "-o", tmp_path / "refs.json", "--inline-unsupported", "1000", check=False)
    assert out.returncode == 1
    assert "packed: not referenced: filter 32004 (HDF5 lz4 filter" in out.stderr
    assert "frames LZ4 blocks differently from numcodecs' lz4" in out.stderr
    assert "larger than --inline-unsupported (1000 bytes)" in out.stderr
    out = scan(path, "-o", tmp_path / "refs.json", "--inline-unsupported", "1000", "--skip-unsupported")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert "plain/.zarray" in refs and not any(k.startswith("packed") for k in refs)


def test_small_datasets_with_filters_without_a_codec_are_decoded_by_hdf5_and_inlined(tmp_path, mounts):
    path = tmp_path / "plugins.h5"
    with h5py.File(path, "w") as f:
        # LZ4 decodes through Debian's hdf5-filter-plugin.
        f.create_dataset("lz4", data=np.arange(1000.0), chunks=(100,), **hdf5plugin.LZ4())
        # Debian's LZF plugin (hdf5-plugin-lzf) leaves the LZF functions to its host, h5py: outside
        # Python the HDF5 library cannot load it, and the dataset is refused.
        f.create_dataset("lzf", data=np.arange(1000), chunks=(100,), compression="lzf")
    out = scan(path, "-o", tmp_path / "refs.json", check=False)
    assert "lzf: not referenced: its data cannot be decoded here (filter 32000 (lzf)" in out.stderr
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert json.loads(refs["lz4/.zarray"])["filters"] is None and refs["lz4/0"].startswith("base64:")
    assert not any(k.startswith("lzf") for k in refs)
    m = mounts(tmp_path / "refs.json")
    with h5py.File(path) as f:
        np.testing.assert_array_equal(zarr.open_array(str(m.path("lz4")), mode="r")[...], f["lz4"][()])


def test_output_is_deterministic_in_both_spec_versions_and_urls_can_be_rewritten(tmp_path):
    path = make_variety(tmp_path / "variety.h5", tmp_path)
    scan(path, "-o", tmp_path / "one.json", "-q")
    scan(path, "-o", tmp_path / "two.json", "-q")
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
    scan(path, "-o", tmp_path / "v0.json", "--version", "0", "--url", "s3://bucket/{name}", "-q")
    v0 = json.loads((tmp_path / "v0.json").read_text())
    assert "version" not in v0
    assert v0["contiguous/0.0"][0] == "s3://bucket/variety.h5"
    assert list(v0) == sorted(v0)


def test_bad_inputs_fail_with_one_line(tmp_path):
    (tmp_path / "not.h5").write_text("plain text")
    out = scan(tmp_path / "not.h5", "-o", tmp_path / "refs.json", check=False)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"kerchunkfs-scan: {tmp_path / 'not.h5'}: not an HDF5 file, or it cannot be read (file signature not found)"]
    out = scan(tmp_path / "a.h5", tmp_path / "b.h5", "-o", tmp_path / "refs.json", check=False)
    assert out.returncode == 2 and "--out-dir" in out.stderr


def test_chunk_locations_read_from_the_file_match_the_librarys(tmp_path, mounts):
    # The v1 B-tree is read directly (one pass); HDF5's per-chunk lookups are the oracle.
    rng = np.random.default_rng(2)
    files = [make_variety(tmp_path / "variety.h5", tmp_path)]
    with h5py.File(tmp_path / "userblock.h5", "w", userblock_size=512) as f:
        f.create_dataset("u", data=rng.normal(size=(300, 40)), chunks=(7, 9), compression="gzip")
        f.create_dataset("c", data=rng.normal(size=(50, 4)))  # contiguous
    with h5py.File(tmp_path / "latest.h5", "w", libver="latest") as f:  # other chunk index kinds
        f.create_dataset("fixed", data=rng.normal(size=(60, 60)), chunks=(8, 8))
        grow = f.create_dataset("growing", shape=(10, 5), maxshape=(None, 5), chunks=(3, 5))
        grow[...] = 1
        f.create_dataset("one", data=np.arange(10.0), chunks=(10,))
    with h5py.File(tmp_path / "deep.h5", "w") as f:  # a B-tree several levels deep
        d = f.create_dataset("many", shape=(200, 200), chunks=(2, 2), dtype="i2")
        d[::3, ::5] = 7
    files += [tmp_path / "userblock.h5", tmp_path / "latest.h5", tmp_path / "deep.h5"]
    for path in files:
        scan(path, "-o", tmp_path / "file.json", "-q", "--inline-threshold", "0")
        scan(path, "-o", tmp_path / "library.json", "-q", "--inline-threshold", "0", "--chunk-index", "library")
        assert (tmp_path / "file.json").read_bytes() == (tmp_path / "library.json").read_bytes(), path
        if path.name in ("userblock.h5", "deep.h5"):
            m = mounts(tmp_path / "file.json")
            with h5py.File(path) as f:
                for name in (["u", "c"] if path.name == "userblock.h5" else ["many"]):
                    np.testing.assert_array_equal(zarr.open_array(str(m.path(name)), mode="r")[...], f[name][()])


def test_strings_booleans_and_enums(tmp_path, mounts):
    path = tmp_path / "kinds.h5"
    words = ["alpha", "βeta", "", "a much longer string than the others"]
    with h5py.File(path, "w") as f:
        f.create_dataset("words", data=np.array(words, dtype=h5py.string_dtype()))
        f.create_dataset("grid", data=np.array([["a", "bb"], ["ccc", "dddd"]], dtype=h5py.string_dtype()))
        f.create_dataset("flags", data=np.array([True, False, True, True]))
        kind = h5py.enum_dtype({"LAND": 0, "SEA": 1, "ICE": 7}, basetype="i1")
        f.create_dataset("surface", data=np.array([0, 1, 7, 1], dtype="i1"), dtype=kind)
    scan(path, "-o", tmp_path / "refs.json")
    m = mounts(tmp_path / "refs.json")
    group = zarr.open_group(str(m.path()), mode="r")
    assert list(group["words"][...]) == words
    assert group["grid"][...].tolist() == [["a", "bb"], ["ccc", "dddd"]]
    flags = group["flags"][...]
    assert flags.dtype == bool and flags.tolist() == [True, False, True, True]
    surface = group["surface"]
    assert surface[...].tolist() == [0, 1, 7, 1]
    assert surface.attrs["flag_values"] == [0, 1, 7] and surface.attrs["flag_meanings"] == "LAND SEA ICE"
    # fsspec reads the inlined strings too
    fs = fsspec.filesystem("reference", fo=str(tmp_path / "refs.json"))
    assert list(zarr.open_array(fs.get_mapper("words"), mode="r")[...]) == words


def test_a_file_that_hangs_the_hdf5_library_costs_that_file_alone(tmp_path):
    # Found by the scanner's fuzzer: a damaged global heap sends HDF5 1.10.8 into an endless loop.
    from conftest import REPO
    hang = REPO / "tests" / "fuzz" / "hdf5-hangs" / "global-heap-loop.h5"
    good = tmp_path / "good.h5"
    with h5py.File(good, "w") as f:
        f["x"] = np.arange(5)
    out = scan("--file-timeout", "2", hang, good, "--out-dir", tmp_path, "-q", check=False)
    assert out.returncode == 1
    assert f"{hang}: given up after 2 s: the HDF5 library did not finish reading it" in out.stderr
    assert json.loads((tmp_path / "good.h5.json").read_text())["refs"]["x/.zarray"]


def test_files_that_crash_the_hdf5_library_are_reported_and_the_scan_goes_on(tmp_path):
    # Found by the scanner's fuzzer: heap overflows and a null read inside HDF5 1.10.8. They are
    # read in worker processes; whatever the library does, the run reports and carries on to the
    # good file.
    from conftest import REPO
    crashes = sorted((REPO / "tests" / "fuzz" / "hdf5-crashes").iterdir())
    assert crashes
    good = tmp_path / "good.h5"
    with h5py.File(good, "w") as f:
        f["x"] = np.arange(5)
    # Under a sanitizer build each crash is reported by the sanitizer first; unsymbolized, that
    # takes a moment instead of seconds per file.
    quiet_sanitizers = dict(os.environ, ASAN_OPTIONS="symbolize=0:detect_leaks=0", TSAN_OPTIONS="symbolize=0",
                            UBSAN_OPTIONS="symbolize=0")
    out = scan("--file-timeout", "20", *crashes, good, "--out-dir", tmp_path, "-q", "--skip-unsupported", check=False,
               env=quiet_sanitizers)
    assert out.returncode in (0, 1), out.stderr  # never killed by a signal itself
    assert json.loads((tmp_path / "good.h5.json").read_text())["refs"]["x/.zarray"]
