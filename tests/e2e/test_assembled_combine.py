"""Combines kerchunk refuses, joined as assembled arrays (a kerchunkfs extension) and read
through -o decode: yearly files of 365/366/365 days whose chunks do not line up, and files whose
packing differs. The truth is xarray.open_mfdataset of the original netCDF4 files; fsspec must
refuse the assembled arrays rather than misread them."""

import json

import fsspec
import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

from conftest import scan


def write_year(path, year, days, chunk_days, packing):
    """A netCDF4 file of daily values for one year: `tas` (float32, shuffle + zlib) and `packed`
    (int16 with the given scale_factor, add_offset and _FillValue)."""
    rng = np.random.default_rng(year)
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "yearly file"
        nc.createDimension("time", days)
        nc.createDimension("lat", 4)
        nc.createDimension("lon", 5)
        time = nc.createVariable("time", "f8", ("time",))
        time.units = f"days since {year}-01-01"
        time.calendar = "standard"
        time[:] = np.arange(days)
        nc.createVariable("lat", "f4", ("lat",))[:] = np.linspace(-30, 30, 4)
        nc.createVariable("lon", "f4", ("lon",))[:] = np.linspace(0, 40, 5)
        tas = nc.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, shuffle=True,
                                chunksizes=(min(chunk_days, days), 4, 5))
        tas.units = "K"
        tas[:] = (280 + 10 * rng.standard_normal((days, 4, 5))).astype("f4")
        scale, offset, fill = packing
        packed = nc.createVariable("packed", "i2", ("time", "lat", "lon"), zlib=True,
                                   chunksizes=(min(chunk_days, days), 4, 5), fill_value=np.int16(fill))
        packed.set_auto_maskandscale(False)
        packed.scale_factor = np.float32(scale)
        packed.add_offset = np.float32(offset)
        packed.units = "mm"
        raw = rng.integers(-3000, 3000, size=(days, 4, 5)).astype("i2")
        raw[5, 1, 2] = fill  # masked: NaN on both paths
        packed[:] = raw
    return path


def yearly_files(directory, chunk_days, packings):
    return [write_year(directory / f"y{year}.nc", year, days, chunk_days, packing)
            for (year, days), packing in zip(((2019, 365), (2020, 366), (2021, 365)), packings)]


SAME_PACKING = [(0.01, 5.0, -32767)] * 3
OTHER_PACKING = [(0.01, 5.0, -32767), (0.01, 5.0, -32767), (0.02, -3.0, -9999)]


def combined(tmp_path, files, *options):
    out = tmp_path / "combined.json"
    scan("--concat-dim", "time", *options, *files, "-o", out)
    return out


def assert_same_as_mfdataset(mount, files):
    expected = xr.open_mfdataset(files, combine="by_coords").load()
    got = xr.open_zarr(str(mount.path()), consolidated=True).load()
    xr.testing.assert_identical(got, expected)


@pytest.mark.parametrize("chunk_days", [366, 100])
def test_files_whose_chunks_do_not_line_up_read_as_one_array(tmp_path, mounts, chunk_days):
    files = yearly_files(tmp_path, chunk_days, SAME_PACKING)
    refs = combined(tmp_path, files)
    m = mounts(refs, "-o", "decode", "-o", f"allow_local={tmp_path}")
    meta = json.loads(m.path("tas/.zarray").read_text())
    assert meta["shape"] == [1096, 4, 5]
    assert meta["chunks"] == [min(chunk_days, 365), 4, 5]  # the smallest chunk among the files
    assert meta["compressor"] is None and meta["filters"] is None
    assert_same_as_mfdataset(m, files)
    # The mount lists the array's chunks, not the files' arrays it is assembled from.
    listed = sorted(p.name for p in m.path("tas").iterdir())
    assert ".kerchunkfs" not in listed and f"{(1096 - 1) // meta['chunks'][0]}.0.0" in listed


def test_the_assembled_chunk_extent_can_be_chosen(tmp_path, mounts):
    files = yearly_files(tmp_path, 366, SAME_PACKING)
    refs = combined(tmp_path, files, "--assemble-chunk", "time=30")
    m = mounts(refs, "-o", "decode", "-o", f"allow_local={tmp_path}")
    assert json.loads(m.path("tas/.zarray").read_text())["chunks"] == [30, 4, 5]
    assert_same_as_mfdataset(m, files)


def test_files_whose_packing_differs_read_unpacked(tmp_path, mounts):
    files = yearly_files(tmp_path, 100, OTHER_PACKING)
    refs = combined(tmp_path, files)
    written = json.loads(refs.read_text())["refs"]
    assert json.loads(written["packed/.zarray"])["compressor"]["unpack"] is True
    m = mounts(refs, "-o", "decode", "-o", f"allow_local={tmp_path}")
    meta = json.loads(m.path("packed/.zarray").read_text())
    attributes = json.loads(m.path("packed/.zattrs").read_text())
    assert meta["dtype"] == "<f4" and meta["fill_value"] == "NaN"
    assert not {"scale_factor", "add_offset", "_FillValue", "missing_value"} & set(attributes)
    assert_same_as_mfdataset(m, files)
    got = xr.open_zarr(str(m.path()), consolidated=True)
    assert np.isnan(got.packed.values[5 + 365 + 366, 1, 2])


def test_other_tools_refuse_assembled_arrays_and_the_raw_mount_says_why(tmp_path, mounts):
    files = yearly_files(tmp_path, 366, OTHER_PACKING)
    refs = combined(tmp_path, files)
    fs = fsspec.filesystem("reference", fo=str(refs))
    for name in ("tas", "packed"):
        with pytest.raises(ValueError, match="kerchunkfs.assembled"):
            zarr.open_array(fs.get_mapper(name), mode="r")[...]
    with pytest.raises(ValueError, match="kerchunkfs.assembled"):
        xr.open_dataset(fs.get_mapper(""), engine="zarr", consolidated=False).load()
    # Arrays that join as they are still read everywhere.
    np.testing.assert_array_equal(zarr.open_array(fs.get_mapper("lat"), mode="r")[...], np.linspace(-30, 30, 4))
    m = mounts(refs, "-o", f"allow_local={tmp_path}")
    with pytest.raises(OSError) as failure:
        m.path("tas/.zarray").read_bytes()
    assert failure.value.errno == 5
    assert "tas/.zarray: an array kerchunkfs-scan assembled" in m.log() and "-o decode" in m.log()
    np.testing.assert_array_equal(zarr.open_array(str(m.path("lat")), mode="r")[...], np.linspace(-30, 30, 4))


def test_what_cannot_be_assembled_is_still_refused(tmp_path):
    files = yearly_files(tmp_path, 366, SAME_PACKING)
    with netCDF4.Dataset(files[1], "a") as nc:
        nc.variables["tas"].units = "degC"
    out = scan("--concat-dim", "time", *files, "-o", tmp_path / "refused.json", check=False)
    assert out.returncode != 0 and "tas: attribute units differs" in out.stderr
