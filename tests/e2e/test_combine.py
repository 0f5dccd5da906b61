"""kerchunkfs-scan --concat-dim / combine: many netCDF4 files → one dataset. Read through the
mount (xarray, dask) and through fsspec, it equals xarray.open_mfdataset on the originals; what
cannot be joined exactly is refused with the file named, or joined as an assembled array."""

import gzip
import json
import random
import shutil

import fsspec
import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import scan

START = np.datetime64("2000-01-01")


def write_day_file(path, first_day, steps, reference="2000-01-01", chunk=2, scale=0.1, lat_shift=0.0,
                   history=None, extra=False, calendar="standard"):
    """`steps` daily values from `first_day` (days after 2000-01-01), time in days since `reference`."""
    rng = np.random.default_rng(int(first_day * 7 + steps))
    offset = (np.datetime64(reference) - START).astype("timedelta64[D]").astype(int)
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "combined test"
        nc.history = history or f"written for day {first_day}"
        nc.createDimension("time", None)
        nc.createDimension("lat", 4)
        nc.createDimension("lon", 5)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = f"days since {reference}"
        t.calendar = calendar
        t[:] = np.arange(first_day, first_day + steps) - offset
        lat = nc.createVariable("lat", "f4", ("lat",))
        lat.units = "degrees_north"
        lat[:] = np.linspace(-30, 30, 4) + lat_shift
        lon = nc.createVariable("lon", "f4", ("lon",))
        lon[:] = np.linspace(0, 40, 5)
        temp = nc.createVariable("temp", "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(chunk, 4, 5))
        temp.units = "K"
        temp[:] = rng.normal(280, 5, size=(steps, 4, 5))
        precip = nc.createVariable("precip", "i2", ("time", "lat", "lon"), chunksizes=(chunk, 4, 5), fill_value=-1)
        precip.scale_factor = scale
        precip[:] = rng.uniform(0, 50, size=(steps, 4, 5))
        precip[0, 0, 0] = np.ma.masked
        if extra:
            e = nc.createVariable("extra", "f8", ("time",), chunksizes=(chunk,), fill_value=np.nan)
            e[:] = np.arange(steps) + first_day


def make_days(directory, lengths=(4, 4, 2, 4, 3), **kwargs):
    """Consecutive files; every other one with its time in another unit's reference date."""
    paths, day = [], 0
    for i, steps in enumerate(lengths):
        path = directory / f"day{i:02d}.nc"
        reference = "2000-01-01" if i % 2 == 0 else "1999-12-01"
        write_day_file(path, day, steps, reference=reference, **kwargs)
        paths.append(path)
        day += steps
    return paths


def open_mf(paths):
    return xr.open_mfdataset([str(p) for p in paths], combine="by_coords", data_vars="minimal", coords="minimal",
                             compat="override", engine="netcdf4").load()


def test_scan_and_combine_equals_open_mfdataset_through_the_mount_fsspec_and_dask(tmp_path, mounts):
    paths = make_days(tmp_path)
    shuffled = paths[:]
    random.Random(3).shuffle(shuffled)
    out = scan("--concat-dim", "time", *shuffled, "-o", tmp_path / "combined.json", "--inline-threshold", "0")
    assert "combined 5 inputs along time" in out.stderr
    expected = open_mf(paths)
    m = mounts(tmp_path / "combined.json")
    mounted = xr.open_zarr(str(m.path()), consolidated=False).load()
    xr.testing.assert_identical(mounted, expected)
    # the chunks are references into the original files, not copies
    refs = json.loads((tmp_path / "combined.json").read_text())["refs"]
    assert refs["temp/8.0.0"][0] == str(paths[4])
    # dask, reading the mount in parallel
    lazy = xr.open_zarr(str(m.path()), consolidated=False, chunks={})
    assert lazy.temp.chunks[0] == (2,) * 8 + (1,)
    xr.testing.assert_identical(lazy.compute(scheduler="threads"), expected)
    # fsspec's ReferenceFileSystem reads the same set
    fs = fsspec.filesystem("reference", fo=str(tmp_path / "combined.json"))
    xr.testing.assert_identical(xr.open_zarr(fs.get_mapper(""), consolidated=False).load(), expected)


def test_combine_of_per_file_sets_in_any_form_matches_scan_and_combine(tmp_path, mounts):
    paths = make_days(tmp_path, lengths=(2, 4, 2))
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "direct.json", "-q")
    scan(*paths, "--out-dir", tmp_path, "-q", "--version", "0")
    # one per-file set gzip-compressed, one listed in a file: forms the inputs may take
    gz = tmp_path / "day01.nc.json.gz"
    gz.write_bytes(gzip.compress((tmp_path / "day01.nc.json").read_bytes()))
    (tmp_path / "list.txt").write_text(f"{tmp_path / 'day02.nc.json'}\n")
    scan("combine", "--concat-dim", "time", tmp_path / "day00.nc.json", gz, f"@{tmp_path / 'list.txt'}",
         "-o", tmp_path / "combined.json.zst", "-q")
    m = mounts(tmp_path / "combined.json.zst")  # compressed: the daemon knows it by its magic bytes
    xr.testing.assert_identical(xr.open_zarr(str(m.path()), consolidated=False).load(), open_mf(paths))
    direct = json.loads((tmp_path / "direct.json").read_text())["refs"]
    shutil.copy(tmp_path / "combined.json.zst", tmp_path / "renamed.json")  # magic bytes, not the name
    m2 = mounts(tmp_path / "renamed.json")
    assert (m2.path("temp/.zarray")).read_text() == direct["temp/.zarray"]


def test_parallel_scan_and_shards_give_the_same_set(tmp_path):
    paths = make_days(tmp_path, lengths=(2,) * 8)
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "serial.json", "-q")
    # a quoted glob, expanded by kerchunkfs-scan itself
    scan("--concat-dim", "time", str(tmp_path / "day*.nc"), "-o", tmp_path / "parallel.json", "-q", "-j", "3")
    assert (tmp_path / "serial.json").read_bytes() == (tmp_path / "parallel.json").read_bytes()
    for shard in range(3):
        scan("--concat-dim", "time", *paths, "--shard", f"{shard}/3", "-o", tmp_path / f"part{shard}.json", "-q")
    scan("combine", "--concat-dim", "time", *(tmp_path / f"part{s}.json" for s in (2, 0, 1)),
         "-o", tmp_path / "merged.json", "-q")
    merged = json.loads((tmp_path / "merged.json").read_text())["refs"]
    serial = json.loads((tmp_path / "serial.json").read_text())["refs"]
    assert merged == serial


def test_a_second_concat_dimension_from_file_names_and_variables_in_some_files(tmp_path, mounts):
    members = []
    for member in (0, 1, 2):
        directory = tmp_path / f"m{member}"
        directory.mkdir()
        paths = []
        for k, day in enumerate((0, 2)):
            path = tmp_path / f"ens{member}_{k}.nc"
            write_day_file(path, day, 2, extra=(member != 1))
            paths.append(path)
        members.append(paths)
    files = [p for paths in members for p in paths]
    scan("--concat-dim", "member", "--coordinate", "member=regex:ens(\\d+)_", "--concat-dim", "time",
         *files, "-o", tmp_path / "ensemble.json")
    m = mounts(tmp_path / "ensemble.json")
    got = xr.open_zarr(str(m.path()), consolidated=False).load()
    assert got.temp.dims == ("member", "time", "lat", "lon") and got.member.values.tolist() == [0, 1, 2]
    for member, paths in enumerate(members):
        expected = open_mf(paths)
        for name in ("temp", "precip"):
            xr.testing.assert_identical(got[name].isel(member=member, drop=True), expected[name])
        if member == 1:  # "extra" is missing from this member's files: it reads as the fill value
            assert np.isnan(got.extra.isel(member=1)).all()
        else:
            np.testing.assert_array_equal(got.extra.isel(member=member).values, expected.extra.values)


@pytest.mark.parametrize("case", ["grid", "chunks", "scale"])
def test_files_whose_grids_or_packing_differ_join_as_assembled_arrays(tmp_path, mounts, case):
    """What kerchunk must refuse is joined as an assembled array, which -o decode reads as
    xarray.open_mfdataset reads the files (more in test_assembled_combine.py)."""
    write_day_file(tmp_path / "day00.nc", 0, 2)
    second = {"grid": dict(steps=3), "chunks": dict(chunk=1), "scale": dict(scale=0.2)}[case]
    write_day_file(tmp_path / "day01.nc", 2, second.pop("steps", 2), **second)
    write_day_file(tmp_path / "day02.nc", 10, 2)
    paths = [tmp_path / f"day0{i}.nc" for i in range(3)]
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "combined.json")
    refs = json.loads((tmp_path / "combined.json").read_text())["refs"]
    assert json.loads(refs["precip/.zarray"])["compressor"]["id"] == "kerchunkfs.assembled"
    m = mounts(tmp_path / "combined.json", "-o", "decode", "-o", f"allow_local={tmp_path}")
    xr.testing.assert_identical(xr.open_zarr(str(m.path()), consolidated=False).load(), open_mf(paths))


@pytest.mark.parametrize("case,message", [
    ("lat", "lat: its values differ between"),
    ("duplicate", "both hold time"),
    ("calendar", "time: attribute calendar differs between"),
])
def test_what_cannot_be_joined_exactly_is_refused_naming_the_files(tmp_path, case, message):
    write_day_file(tmp_path / "day00.nc", 0, 2)
    second = {"lat": dict(lat_shift=0.5), "duplicate": dict(first_day=0), "calendar": dict(calendar="noleap")}[case]
    arguments = dict(first_day=2, steps=2) | second
    write_day_file(tmp_path / "day01.nc", arguments.pop("first_day"), arguments.pop("steps"), **arguments)
    write_day_file(tmp_path / "day02.nc", 10, 2)
    out = scan("--concat-dim", "time", tmp_path / "day00.nc", tmp_path / "day01.nc", tmp_path / "day02.nc",
               "-o", tmp_path / "combined.json", check=False)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "day01.nc" in lines[0]


def test_times_in_a_360_day_calendar_with_different_reference_dates_combine(tmp_path, mounts):
    paths = []
    for i, (reference, first) in enumerate((("2000-01-01", 0), ("1999-11-01", 62), ("2000-02-01", 34))):
        path = tmp_path / f"model{i}.nc"
        with netCDF4.Dataset(path, "w") as nc:
            nc.createDimension("time", None)
            t = nc.createVariable("time", "i4", ("time",))
            t.units = f"days since {reference}"
            t.calendar = "360_day"
            t[:] = np.arange(first, first + 2)
            v = nc.createVariable("v", "f4", ("time",), chunksizes=(2,))
            v[:] = [i, i + 0.5]
        paths.append(path)
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "combined.json")
    m = mounts(tmp_path / "combined.json")
    got = xr.open_zarr(str(m.path()), consolidated=False, use_cftime=True).load()
    expected = xr.open_mfdataset([str(p) for p in paths], combine="by_coords", use_cftime=True).load()
    xr.testing.assert_identical(got, expected)
    # 2000-01-01 + 0, then 1999-11-01 + 62 = 2000-01-03 (30-day months), then 2000-02-01 + 34 = 2000-03-05
    assert [str(t) for t in got.time.values] == ["2000-01-01 00:00:00", "2000-01-02 00:00:00", "2000-01-03 00:00:00",
                                                 "2000-01-04 00:00:00", "2000-03-05 00:00:00", "2000-03-06 00:00:00"]


def test_places_from_a_global_attribute_or_the_input_order(tmp_path, mounts):
    paths = []
    for run in (3, 1, 2):
        path = tmp_path / f"run{run}.nc"
        with netCDF4.Dataset(path, "w") as nc:
            nc.run_number = run
            nc.createDimension("x", 3)
            v = nc.createVariable("v", "f8", ("x",))
            v.member = f"m{run}"
            v[:] = np.arange(3) + 10 * run
        paths.append(path)
    scan("--concat-dim", "run", "--coordinate", "run=attr:run_number", *paths, "-o", tmp_path / "by_attr.json")
    got = xr.open_zarr(str(mounts(tmp_path / "by_attr.json").path()), consolidated=False).load()
    assert got.run.values.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(got.v.values, [[10, 11, 12], [20, 21, 22], [30, 31, 32]])
    scan("--concat-dim", "run", "--coordinate", "run=attr:v:member", *paths, "-o", tmp_path / "by_variable.json")
    got = xr.open_zarr(str(mounts(tmp_path / "by_variable.json").path()), consolidated=False).load()
    assert got.run.values.tolist() == [b"m1", b"m2", b"m3"]
    np.testing.assert_array_equal(got.v.values[:, 0], [10, 20, 30])
    scan("--concat-dim", "run", "--coordinate", "run=index", *paths, "-o", tmp_path / "by_index.json")
    got = xr.open_zarr(str(mounts(tmp_path / "by_index.json").path()), consolidated=False).load()
    assert got.run.values.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(got.v.values[:, 0], [30, 10, 20])


def test_progress_is_drawn_on_a_terminal_only(tmp_path):
    import os
    import pty
    import subprocess
    from conftest import SCAN_BIN
    paths = make_days(tmp_path, lengths=(2, 2, 2))
    primary, secondary = pty.openpty()
    process = subprocess.run([SCAN_BIN, "--concat-dim", "time", *map(str, paths), "-o", str(tmp_path / "c.json"), "-j", "2"],
                             stderr=secondary, stdout=subprocess.DEVNULL, timeout=60)
    os.close(secondary)
    terminal = os.read(primary, 65536).decode()
    os.close(primary)
    assert process.returncode == 0
    assert "\r3/3 files" in terminal and "ETA" in terminal
    piped = scan("--concat-dim", "time", *paths, "-o", tmp_path / "c.json", "-j", "2")
    assert "files," not in piped.stderr and "\r" not in piped.stderr


def test_the_slurm_array_example_scans_shards_that_combine_into_the_whole(tmp_path):
    import os
    import subprocess
    from conftest import REPO, SCAN_BIN
    paths = make_days(tmp_path, lengths=(2,) * 6)
    (tmp_path / "files.txt").write_text("".join(f"{p}\n" for p in paths))
    env = dict(os.environ, PATH=f"{os.path.dirname(SCAN_BIN)}:{os.environ['PATH']}", SLURM_ARRAY_TASK_COUNT="3",
               SLURM_CPUS_PER_TASK="2")
    for task in range(3):
        subprocess.run(["bash", str(REPO / "packaging" / "cluster" / "scan-array.sbatch")], cwd=tmp_path, check=True,
                       env=dict(env, SLURM_ARRAY_TASK_ID=str(task)), timeout=120)
    parts = sorted((tmp_path / "parts").glob("part-*.json.zst"))
    assert len(parts) == 3
    scan("combine", "--concat-dim", "time", *parts, "-o", tmp_path / "whole.json", "-q")
    scan("--concat-dim", "time", "--url", "s3://era5-archive/{name}", *paths, "-o", tmp_path / "direct.json", "-q")
    assert json.loads((tmp_path / "whole.json").read_text()) == json.loads((tmp_path / "direct.json").read_text())


def test_sets_in_kerchunks_form_combine_like_our_own(tmp_path):
    # kerchunk (not installable here: no PyPI) writes version 1 with URL templates and a
    # consolidated .zmetadata; the same content in that form must combine to the same result.
    paths = make_days(tmp_path, lengths=(2, 2, 2))
    scan(*paths, "--out-dir", tmp_path, "-q", "--inline-threshold", "0")
    kerchunk_style = []
    for path in paths:
        refs = json.loads((tmp_path / f"{path.name}.json").read_text())["refs"]
        templated = {}
        for key, value in refs.items():
            templated[key] = ["{{u}}", value[1], value[2]] if isinstance(value, list) else value
        templated[".zmetadata"] = json.dumps({"zarr_consolidated_format": 1, "metadata": {
            k: json.loads(v) for k, v in refs.items() if k.endswith((".zarray", ".zattrs", ".zgroup"))}})
        out = tmp_path / f"{path.name}.kerchunk.json"
        out.write_text(json.dumps({"version": 1, "templates": {"u": str(path)}, "refs": templated}))
        kerchunk_style.append(out)
    scan("combine", "--concat-dim", "time", *kerchunk_style, "-o", tmp_path / "from_kerchunk.json", "-q")
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "direct.json", "-q", "--inline-threshold", "0")
    assert json.loads((tmp_path / "from_kerchunk.json").read_text()) == json.loads((tmp_path / "direct.json").read_text())
