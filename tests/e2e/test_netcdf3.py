"""netCDF classic files (CDF-1, CDF-2 64-bit offset, CDF-5 64-bit data) scanned and mounted:
values through the mount equal netCDF4-python's (masking off and on), xarray.open_zarr of the
mount equals xarray.open_dataset of the file, for files written by netCDF4-python and by scipy and
for the netCDF3 files Debian ships; record variables (one, several, none), the streaming record
count, a file over 4 GiB, combine along the record dimension, and malformed headers."""

import json
import os
import struct
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

from conftest import scan

FORMATS = ["NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_64BIT_DATA"]
CLASSIC_TYPES = ["i1", "S1", "i2", "i4", "f4", "f8"]
CDF5_TYPES = ["u1", "u2", "u4", "i8", "u8"]
DEBIAN_FILES = [Path("/usr/lib/python3/dist-packages/scipy/io/tests/data") / name
                for name in ("example_1.nc", "example_2.nc", "example_3_maskedvals.nc")] + \
               [Path("/usr/lib/python3/dist-packages/xarray/tests/data") / name for name in ("example_1.nc", "bears.nc")]


def write_every_kind(path, fmt, records=4, seed=0, default_fills=False):
    """Every type the format has, as record and as fixed variables, explicit and default fills,
    char arrays, attributes of every type, a scalar, and values equal to the explicit fills (and,
    with `default_fills`, to the types' default fills)."""
    rng = np.random.default_rng(seed)
    types = CLASSIC_TYPES + (CDF5_TYPES if fmt == "NETCDF3_64BIT_DATA" else [])
    with netCDF4.Dataset(path, "w", format=fmt) as nc:
        nc.title = "every kind"
        nc.history = "caf\u00e9 \u2013 UTF-8"
        nc.createDimension("time", None)
        nc.createDimension("y", 3)
        nc.createDimension("x", 5)
        nc.createDimension("strlen", 7)
        time = nc.createVariable("time", "f8", ("time",))
        time.units = "days since 2000-01-01"
        time[:] = np.arange(records)
        for t in types:
            if t == "S1":
                names = nc.createVariable("names", "S1", ("y", "strlen"))
                names[:] = netCDF4.stringtochar(np.array(["alpha", "be", "gamma12"], dtype="S7"))
                labels = nc.createVariable("labels", "S1", ("time", "strlen"))
                labels[:] = netCDF4.stringtochar(np.array([f"day {i}" for i in range(records)], dtype="S7"))
                flag = nc.createVariable("flag", "S1", ("time",))
                flag[:] = np.array([b"a", b"b", b"c", b"d"][:records])
                continue
            info = np.iinfo(t) if t[0] in "iu" else None
            low, high = (max(info.min, -1000), min(info.max, 1000)) if info else (-1e3, 1e3)
            make = (lambda shape: rng.integers(low, high, size=shape).astype(t)) if info else \
                (lambda shape: rng.uniform(low, high, size=shape).astype(t))
            attribute = np.array([low, 0, high], dtype=t)
            fixed = nc.createVariable(f"fixed_{t}", t, ("y", "x"))
            fixed.setncattr(f"range_{t}", attribute)
            fixed.setncattr("scalar", attribute[2])
            fixed[:] = make((3, 5))
            fill = attribute[0] if t != "f4" else np.float32(np.nan)
            record = nc.createVariable(f"record_{t}", t, ("time", "y"), fill_value=fill)
            values = make((records, 3))
            values[0, 0] = fill  # masked by readers that mask
            record[:] = values
            default = nc.createVariable(f"default_{t}", t, ("time",))
            default[:] = make((records,))
            if default_fills and records > 1:
                default[1] = netCDF4.default_fillvals[np.dtype(t).str[1:]]
        scalar = nc.createVariable("scalar", "f8", ())
        scalar.long_name = "a scalar"
        scalar[...] = 3.25


def write_scipy(path, version):
    from scipy.io import netcdf_file
    with netcdf_file(path, "w", version=version) as f:
        f.comment = "written by scipy"
        f.createDimension("time", None)
        f.createDimension("x", 4)
        t = f.createVariable("time", "i4", ("time",))
        t[:] = np.arange(6)
        t.units = "hours since 2001-01-01"
        v = f.createVariable("v", "f8", ("time", "x"))
        v[:] = np.arange(24, dtype="f8").reshape(6, 4) / 7
        v.scale = np.float32(0.5)
        g = f.createVariable("grid", "i2", ("x",))
        g[:] = [1, -2, 3, -4]


def scanned(tmp_path, source, *args):
    out = tmp_path / (Path(source).name + ".json")
    scan(source, "-o", out, *args)
    return out


def assert_mount_equals_netcdf(mount, source, same_in_xarray=True, masked=True):
    """Every variable read through the mount equals netCDF4-python's reading, masking off and on,
    and xarray sees the same dataset either way (unless values equal a type's default fill: readers
    of the zarr fill value mask them, as netCDF4-python does, and xarray's netCDF reader does not;
    --no-default-fill scans as xarray reads)."""
    masked_too = masked
    with netCDF4.Dataset(source) as nc:
        group = zarr.open_group(str(mount.path()), mode="r")
        for name, variable in nc.variables.items():
            array = group[name]
            for masked in (False, True) if masked_too else (False,):
                variable.set_auto_maskandscale(False)
                variable.set_auto_mask(masked)
                expected = variable[...]
                if variable.dtype == np.dtype("S1") and array.ndim == variable.ndim - 1:  # strings
                    expected = netCDF4.chartostring(np.ma.getdata(expected), encoding="none")
                    got = array[...]
                    np.testing.assert_array_equal(got, expected.astype(got.dtype), err_msg=name)
                    continue
                got = array[...]
                if masked and np.ma.is_masked(expected):
                    # What a CF reader of the zarr array masks: its fill value and missing_value.
                    fill = array.fill_value
                    mask = np.isnan(got) if isinstance(fill, float) and np.isnan(fill) else got == fill
                    mask |= np.isin(got, np.atleast_1d(array.attrs.get("missing_value", [])))
                    np.testing.assert_array_equal(mask, np.ma.getmaskarray(expected), err_msg=name)
                np.testing.assert_array_equal(got, np.ma.getdata(expected), err_msg=name)
                assert got.dtype.newbyteorder("=") == np.dtype(variable.dtype).newbyteorder("=") or \
                    variable.dtype == np.dtype("S1"), name
    if not same_in_xarray:
        return
    with xr.open_dataset(source) as expected:
        actual = xr.open_zarr(str(mount.path()), consolidated=False)
        xr.testing.assert_identical(actual.load(), expected.load())


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_type_and_kind_of_variable_reads_as_netcdf4_does(tmp_path, mounts, fmt):
    source = tmp_path / f"{fmt}.nc"
    write_every_kind(source, fmt)
    m = mounts(scanned(tmp_path, source, "--inline-threshold", "0"))
    assert_mount_equals_netcdf(m, source)
    filled = tmp_path / f"{fmt}-filled.nc"
    write_every_kind(filled, fmt, default_fills=True)
    assert_mount_equals_netcdf(mounts(scanned(tmp_path, filled, "--inline-threshold", "0")), filled,
                               same_in_xarray=False)
    meta = json.loads(m.path("record_i2/.zarray").read_text())
    assert meta["dtype"] == ">i2" and meta["chunks"] == [1, 3] and meta["compressor"] is None
    assert json.loads(m.path("default_f4/.zarray").read_text())["fill_value"] == pytest.approx(9.969209968386869e36)
    assert json.loads(m.path("names/.zarray").read_text())["dtype"] == "|S7"
    attrs = json.loads(m.path("fixed_i2/.zattrs").read_text())
    assert attrs["range_i2"] == [-1000, 0, 1000] and attrs["scalar"] == 1000
    assert attrs["_ARRAY_DIMENSIONS"] == ["y", "x"]


@pytest.mark.parametrize("records", [0, 1])
def test_zero_and_one_records_and_a_single_record_variable(tmp_path, mounts, records):
    # One record variable alone: its records follow each other with no padding between them.
    source = tmp_path / "single.nc"
    with netCDF4.Dataset(source, "w", format="NETCDF3_CLASSIC") as nc:
        nc.createDimension("time", None)
        nc.createDimension("x", 3)
        v = nc.createVariable("v", "i2", ("time", "x"))  # 6 bytes a record: padding would show
        v[:] = np.arange(records * 3, dtype="i2").reshape(records, 3)
        nc.createVariable("fixed", "f4", ("x",))[:] = [1, 2, 3]
    m = mounts(scanned(tmp_path, source, "--inline-threshold", "0"))
    assert_mount_equals_netcdf(m, source)
    assert zarr.open_array(str(m.path("v")), mode="r").shape == (records, 3)
    with netCDF4.Dataset(tmp_path / "many.nc", "w", format="NETCDF3_CLASSIC") as nc:
        nc.createDimension("time", None)
        nc.createDimension("x", 3)
        v = nc.createVariable("v", "i2", ("time", "x"))
        nc.createVariable("w", "i1", ("time",))[:] = np.arange(5, dtype="i1")
        v[:] = np.arange(15, dtype="i2").reshape(5, 3)
    assert_mount_equals_netcdf(mounts(scanned(tmp_path, tmp_path / "many.nc", "--inline-threshold", "0")),
                               tmp_path / "many.nc")


@pytest.mark.parametrize("version", [1, 2])
def test_files_written_by_scipy_read_as_netcdf4_does(tmp_path, mounts, version):
    source = tmp_path / f"scipy{version}.nc"
    write_scipy(source, version)
    m = mounts(scanned(tmp_path, source, "--inline-threshold", "0"))
    assert_mount_equals_netcdf(m, source)


@pytest.mark.parametrize("source", DEBIAN_FILES, ids=lambda p: f"{p.parent.parent.parent.name}-{p.name}")
def test_the_netcdf3_files_debian_ships(tmp_path, mounts, source):
    if not source.exists():
        pytest.skip(f"{source} is not installed (python3-scipy / python3-xarray)")
    # Some hold variables never written (every value the default fill): netCDF4-python masks them,
    # xarray's netCDF reader does not; each is matched by one way of scanning.
    assert_mount_equals_netcdf(mounts(scanned(tmp_path, source)), source, same_in_xarray=False)
    xarray_like = tmp_path / "xarray.json"
    scan(source, "-o", xarray_like, "--no-default-fill")
    assert_mount_equals_netcdf(mounts(xarray_like), source, masked=False)


def test_split_contiguous_cuts_fixed_variables_into_row_chunks(tmp_path, mounts):
    source = tmp_path / "grid.nc"
    with netCDF4.Dataset(source, "w", format="NETCDF3_64BIT_OFFSET") as nc:
        nc.createDimension("y", 101)
        nc.createDimension("x", 50)
        nc.createVariable("z", "f8", ("y", "x"))[:] = np.random.default_rng(1).normal(size=(101, 50))
    m = mounts(scanned(tmp_path, source, "--split-contiguous", "4000", "--inline-threshold", "0"))
    assert json.loads(m.path("z/.zarray").read_text())["chunks"] == [10, 50]
    assert_mount_equals_netcdf(m, source)


def test_the_streaming_record_count_is_taken_from_the_file_size(tmp_path, mounts):
    source = tmp_path / "streaming.nc"
    write_every_kind(source, "NETCDF3_CLASSIC", records=3)
    data = bytearray(source.read_bytes())
    data[4:8] = b"\xff\xff\xff\xff"  # numrecs: the writer never said
    (tmp_path / "streamed.nc").write_bytes(bytes(data))
    m = mounts(scanned(tmp_path, tmp_path / "streamed.nc", "--inline-threshold", "0"))
    assert zarr.open_array(str(m.path("record_f8")), mode="r").shape == (3, 3)
    assert_mount_equals_netcdf(m, source)


def write_sparse_cdf2(path):
    """A 64-bit offset file whose record variable begins past 4 GiB, after 4.95 GB of fixed
    variables never written (a sparse file), its header packed here by the format's
    specification (netCDF-C writes every byte of such a file, which takes a minute); netCDF4-python
    reading it is the test's independent side."""
    def name(text):
        raw = text.encode()
        return struct.pack(">I", len(raw)) + raw + b"\0" * (-len(raw) % 4)

    dims = [("time", 0), ("rows", 90_000), ("more_rows", 20_000), ("columns", 45_000), ("x", 8)]
    # name, dimension ids, netCDF type, element size
    variables = [("small", [4], 4, 4), ("big", [1, 3], 1, 1), ("bigger", [2, 3], 1, 1), ("r", [0, 4], 6, 8)]
    sizes = [8 * 4, 90_000 * 45_000, 20_000 * 45_000, 8 * 8]

    def header(begins):
        out = b"CDF\x02" + struct.pack(">I", 3)
        out += struct.pack(">II", 0x0A, len(dims)) + b"".join(name(n) + struct.pack(">I", length) for n, length in dims)
        out += struct.pack(">II", 0, 0)
        out += struct.pack(">II", 0x0B, len(variables))
        for (var, ids, nc_type, _), size, begin in zip(variables, sizes, begins):
            out += name(var) + struct.pack(">I", len(ids)) + b"".join(struct.pack(">I", i) for i in ids)
            out += struct.pack(">II", 0, 0) + struct.pack(">IIQ", nc_type, size, begin)
        return out

    length = len(header([0] * len(variables)))
    begins = [length]
    for size in sizes[:-1]:
        begins.append(begins[-1] + size)
    small = np.arange(8, dtype=">i4")
    records = (np.arange(24, dtype=">f8").reshape(3, 8) * 1.5)
    with open(path, "wb") as f:
        f.write(header(begins))
        f.write(small.tobytes())
        f.seek(begins[3])
        f.write(records.tobytes())
    return begins[3]


def test_a_64bit_offset_file_over_4gib(tmp_path, mounts):
    source = tmp_path / "large.nc"
    record_begin = write_sparse_cdf2(source)
    assert record_begin > 2**32 and os.path.getsize(source) > 4_900_000_000
    m = mounts(scanned(tmp_path, source, "--inline-threshold", "0"))
    refs = json.loads((tmp_path / "large.nc.json").read_text())["refs"]
    assert refs["r/2.0"][1] == record_begin + 2 * 64
    with netCDF4.Dataset(source) as nc:
        np.testing.assert_array_equal(zarr.open_array(str(m.path("r")), mode="r")[...], nc["r"][...])
        np.testing.assert_array_equal(zarr.open_array(str(m.path("small")), mode="r")[...], nc["small"][...])
        assert zarr.open_array(str(m.path("bigger")), mode="r").shape == nc["bigger"].shape


def test_netcdf3_files_combine_along_their_record_dimension(tmp_path, mounts):
    paths = []
    for day in range(3):
        path = tmp_path / f"day{day}.nc"
        with netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC") as nc:
            nc.createDimension("time", None)
            nc.createDimension("x", 4)
            t = nc.createVariable("time", "f8", ("time",))
            t.units = "days since 2000-01-01"
            t[:] = [2 * day, 2 * day + 1]
            v = nc.createVariable("v", "f4", ("time", "x"), fill_value=np.float32(-1))
            v[:] = np.random.default_rng(day).normal(size=(2, 4))
        paths.append(path)
    scan(*paths, "--concat-dim", "time", "-o", tmp_path / "combined.json", "--inline-threshold", "0")
    m = mounts(tmp_path / "combined.json")
    with xr.open_mfdataset(paths, combine="nested", concat_dim="time") as expected:
        xr.testing.assert_identical(xr.open_zarr(str(m.path()), consolidated=False).load(), expected.load())


@pytest.mark.parametrize("damage,message", [
    (lambda d: d[:6], "netCDF header byte 4: the file ends inside the header"),
    (lambda d: d[:8] + struct.pack(">I", 0x0B) + d[12:], "netCDF header byte 8: expected the dimension list's tag"),
    (lambda d: d[:12] + struct.pack(">I", 0x7FFFFFFF) + d[16:], "dimension count: 2147483647 is more than the file"),
    (lambda d: d[:4] + struct.pack(">I", 1000) + d[8:], "variable time: its data lies beyond the end of the file "
                                                       "(1000 records of 4 bytes"),
])
def test_malformed_headers_get_one_line_naming_the_file_and_byte(tmp_path, damage, message):
    source = tmp_path / "good.nc"
    write_scipy(source, 1)
    bad = tmp_path / "bad.nc"
    bad.write_bytes(damage(source.read_bytes()))
    out = scan(bad, "-o", tmp_path / "bad.json", check=False)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if str(bad) in line]
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_a_remote_netcdf3_file_takes_one_request(nginx, tmp_path, mounts):
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    source = folder / "remote.nc"
    write_every_kind(source, "NETCDF3_64BIT_OFFSET")
    name = f"{tmp_path.name}/remote.nc"
    scan(nginx.url(name), "-o", tmp_path / "remote.json", "--inline-threshold", "0")
    assert nginx.gets(name) == 1
    m = mounts(tmp_path / "remote.json")
    assert_mount_equals_netcdf(m, source)
