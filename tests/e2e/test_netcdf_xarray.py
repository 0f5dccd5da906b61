"""xarray on the mount equals xarray on the original netCDF4 file; fsspec agrees with the mount."""

import base64
import json
import shutil
import subprocess

import fsspec
import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

import h5refs
from conftest import scan, write_refs


def make_netcdf(path):
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "synthetic daily temperature"
        nc.createDimension("time", 30)
        nc.createDimension("lat", 18)
        nc.createDimension("lon", 36)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t.calendar = "standard"
        t[:] = np.arange(30)
        lat = nc.createVariable("lat", "f4", ("lat",))
        lat.units = "degrees_north"
        lat[:] = np.linspace(-85, 85, 18)
        lon = nc.createVariable("lon", "f4", ("lon",))
        lon[:] = np.linspace(0, 350, 36)
        temp = nc.createVariable("temp", "f4", ("time", "lat", "lon"), zlib=True, complevel=4,
                                 chunksizes=(1, 18, 36), fill_value=np.float32(1e20))
        temp.units = "K"
        temp.long_name = "air temperature"
        rng = np.random.default_rng(1)
        data = (280 + 10 * rng.standard_normal((30, 18, 36))).astype("f4")
        data[3, 4, 5] = np.float32(1e20)  # a masked value: xarray shows NaN on both paths
        temp[:] = np.ma.masked_equal(data, np.float32(1e20))
        counts = nc.createVariable("counts", "i4", ("lat", "lon"))  # contiguous, uncompressed
        counts[:] = np.arange(18 * 36).reshape(18, 36)
    return path


@pytest.fixture
def netcdf_file(tmp_path):
    return make_netcdf(tmp_path / "temperature.nc")


def test_xarray_on_the_mount_equals_netcdf4(netcdf_file, tmp_path, mounts):
    m = mounts(write_refs(tmp_path / "refs.json", h5refs.build_netcdf(netcdf_file)))
    expected = xr.open_dataset(netcdf_file, engine="netcdf4")
    got = xr.open_zarr(str(m.path()), consolidated=False)
    xr.testing.assert_equal(got, expected)
    assert got.attrs["title"] == expected.attrs["title"]
    for name in ("temp", "time", "lat", "counts"):
        assert got[name].attrs == expected[name].attrs, name
    assert np.isnan(got.temp.values[3, 4, 5])
    assert got.time.values[0] == np.datetime64("2000-01-01")


def kerchunk_style_refs(nc_path):
    """A reference set in kerchunk's own layout: zarr writes the metadata (so the .zarray bytes
    are zarr's), chunks are [url, offset, length] or base64 when tiny, spec version 1."""
    store = {}
    root = zarr.group(store=store)
    with netCDF4.Dataset(nc_path) as nc:
        root.attrs.update({k: nc.getncattr(k) for k in nc.ncattrs()})
    refs = h5refs.build_netcdf(nc_path, inline_threshold=100)
    for key, value in refs.items():
        if key.endswith("/.zarray"):
            meta = json.loads(value)
            name = key[: -len("/.zarray")]
            arr = root.create(name, shape=meta["shape"], chunks=meta["chunks"], dtype=meta["dtype"],
                              compressor=zarr.Zlib(meta["compressor"]["level"]) if meta["compressor"] else None,
                              filters=[zarr.Shuffle(f["elementsize"]) for f in meta["filters"] or []] or None,
                              fill_value=meta["fill_value"], write_empty_chunks=False)
            arr.attrs.update(json.loads(refs[name + "/.zattrs"]))
    out = {k: v.decode() for k, v in store.items()}
    out.update({k: v for k, v in refs.items() if not k.rsplit("/", 1)[-1].startswith(".")})
    return {"version": 1, "refs": out}


def test_kerchunk_layout_reads_the_same_through_fsspec_and_the_mount(netcdf_file, tmp_path, mounts):
    refs = kerchunk_style_refs(netcdf_file)
    assert any(isinstance(v, str) and v.startswith("base64:") for v in refs["refs"].values())
    refs_path = write_refs(tmp_path / "kerchunk.json", refs)
    m = mounts(refs_path)
    fs = fsspec.filesystem("reference", fo=str(refs_path))
    for key in refs["refs"]:
        assert m.path(key).read_bytes() == fs.cat_file(key), key
    expected = xr.open_dataset(netcdf_file, engine="netcdf4")
    xr.testing.assert_equal(xr.open_zarr(str(m.path()), consolidated=False), expected)
    xr.testing.assert_equal(xr.open_zarr(fs.get_mapper(""), consolidated=False), expected)


def test_version1_templates_and_gen_agree_with_fsspec(tmp_path, mounts):
    # A contiguous variable split into regular chunks: the references are arithmetic, the
    # natural use of gen. fsspec expands the same set with real Jinja and is the oracle.
    path = tmp_path / "contiguous.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", 30)
        nc.createDimension("lat", 18)
        nc.createDimension("lon", 36)
        v = nc.createVariable("field", "<f4", ("time", "lat", "lon"), contiguous=True)
        v[:] = np.arange(30 * 18 * 36, dtype="f4").reshape(30, 18, 36) / 7
    refs = h5refs.build_netcdf(path)
    _, base, length = refs.pop("field/0.0.0")
    assert length == 30 * 18 * 36 * 4
    zarray = json.loads(refs["field/.zarray"])
    zarray["chunks"] = [1, 9, 36]
    refs["field/.zarray"] = json.dumps(zarray)
    v1 = {
        "version": 1,
        "templates": {"root": str(tmp_path), "file": "{{directory}}/{{name}}"},
        "refs": refs,
        "gen": [{
            "key": "field/{{t}}.{{h}}.0",
            "url": "{{file(directory=root, name='contiguous.nc')}}",
            "offset": "{{" + str(base) + " + t * 2592 + h * 1296}}",
            "length": "1296",
            "dimensions": {"t": {"stop": 30}, "h": [0, 1]},
        }],
    }
    refs_path = write_refs(tmp_path / "v1.json", v1)
    m = mounts(refs_path)
    fs = fsspec.filesystem("reference", fo=str(refs_path))
    keys = [k for k in fs.references if not k.startswith(".")]
    assert len([k for k in keys if k.startswith("field/") and k[6].isdigit()]) == 60
    for key in keys:
        assert m.path(key).read_bytes() == fs.cat_file(key), key
    expected = xr.open_dataset(path, engine="netcdf4")
    xr.testing.assert_equal(xr.open_zarr(str(m.path()), consolidated=False), expected)


def test_nczarr_reads_an_uncompressed_array_through_the_mount(tmp_path, mounts):
    # netCDF-C's NCZarr is an independent zarr reader; Debian's build ignores compressors, so
    # only an uncompressed array is a fair check.
    if shutil.which("ncdump") is None:
        pytest.skip("ncdump is not installed (Debian package netcdf-bin)")
    path = tmp_path / "plain.nc"
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("y", 4)
        nc.createDimension("x", 6)
        v = nc.createVariable("grid", "i4", ("y", "x"), chunksizes=(2, 3))
        v[:] = np.arange(24).reshape(4, 6) * 3
    m = mounts(write_refs(tmp_path / "refs.json", h5refs.build_netcdf(path)))
    out = subprocess.run(["ncdump", "-v", "grid", f"file://{m.path()}#mode=zarr,file"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    body = out.stdout.split("grid =", 1)[1].split(";", 1)[0]
    values = [int(x) for x in body.replace(",", " ").split()]
    assert values == list(range(0, 72, 3))


def test_a_variable_named_like_a_dimension_it_does_not_index_keeps_its_netcdf_name(tmp_path, mounts):
    # netCDF-4 stores such a variable as _nc4_non_coord_<name> beside the dimension's scale; netCDF
    # readers, and the scanner, call it <name>.
    path = tmp_path / "nc.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("x", 3)
        ds.createDimension("y", 2)
        ds.createVariable("x", "f4", ("y",))[:] = [1.5, 2.5]  # named x, along y
        ds.createVariable("v", "i2", ("y", "x"))[:] = np.arange(6).reshape(2, 3)
    scan(path, "-o", tmp_path / "refs.json")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert "x/.zarray" in refs and not any("_nc4_non_coord_" in key for key in refs)
    m = mounts(tmp_path / "refs.json")
    xr.testing.assert_identical(xr.open_zarr(str(m.mountpoint), consolidated=False).load(),
                                xr.open_dataset(path).load())
