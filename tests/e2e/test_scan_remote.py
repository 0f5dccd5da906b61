"""kerchunkfs-scan on remote files: HDF5 read in place over HTTP(S) and S3 through a block cache.
The output is byte for byte the output of scanning a local copy; a typical file costs at most
three requests; broken remotes fail with one line naming the URL while the other files finish."""

import json
import shutil

import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import clean_env, scan
from test_combine import write_day_file
from test_scan import make_variety


def typical_netcdf(path, seed=0):
    """A netCDF4 file of 10 zlib-compressed variables of 100 chunks each (1.6 MB)."""
    rng = np.random.default_rng(seed)
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "typical"
        nc.createDimension("time", 100)
        nc.createDimension("y", 20)
        nc.createDimension("x", 20)
        for v in range(10):
            var = nc.createVariable(f"v{v}", "f4", ("time", "y", "x"), zlib=True, chunksizes=(1, 20, 20))
            var.units = "K"
            var[:] = rng.normal(size=(100, 20, 20))
    return path


def appended_netcdf(path, days=200):
    """Three variables written a day at a time along an unlimited dimension: their chunk indexes
    end up spread over the whole file, the hard case for reading metadata remotely."""
    rng = np.random.default_rng(5)
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("lat", 30)
        nc.createDimension("lon", 60)
        time = nc.createVariable("time", "f8", ("time",))
        time.units = "days since 2000-01-01"
        variables = [nc.createVariable(n, "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(1, 30, 60))
                     for n in ("tas", "pr", "psl")]
        for day in range(days):
            time[day] = day
            for variable in variables:
                variable[day] = rng.normal(size=(30, 60))
    return path


def publish(nginx, tmp_path, path):
    """Copies a file under nginx's root; returns its path there relative to the root."""
    relative = f"{tmp_path.name}/{path.name}"
    (nginx.root / tmp_path.name).mkdir(exist_ok=True)
    shutil.copy(path, nginx.root / relative)
    return relative


def s3_env(s3_server, tmp_path):
    return clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path),
                     AWS_ENDPOINT_URL_S3=s3_server.endpoint)


def test_remote_scans_are_byte_identical_to_local_scans(nginx, s3_server, tmp_path):
    files = [make_variety(tmp_path / "variety.h5", tmp_path), typical_netcdf(tmp_path / "typical.nc"),
             appended_netcdf(tmp_path / "appended.nc", days=80)]
    for path in files:
        relative = publish(nginx, tmp_path, path)
        s3_server.put(relative, path.read_bytes())
        url = f"https://data.example/{path.name}"  # the same URL written by all four
        outputs = {}
        for where, source, extra, env in [
            ("local", path, [], None),
            ("http", nginx.url(relative), [], None),
            ("https", nginx.tls_url(relative), ["--insecure"], None),
            ("s3", f"s3://{s3_server.bucket}/{relative}", [], s3_env(s3_server, tmp_path)),
        ]:
            out = tmp_path / f"{path.name}.{where}.json"
            scan(source, "-o", out, "-q", "--url", url, *extra, env=env)
            outputs[where] = out.read_bytes()
        assert json.loads(outputs["local"])["refs"], path
        for where in ("http", "https", "s3"):
            assert outputs[where] == outputs["local"], f"{path.name} scanned over {where} differs from the local scan"


def test_a_typical_netcdf4_file_takes_at_most_three_requests(nginx, tmp_path):
    relative = publish(nginx, tmp_path, typical_netcdf(tmp_path / "typical.nc"))
    before = nginx.gets(relative)
    scan(nginx.url(relative), "-o", tmp_path / "refs.json", "-q")
    requests = nginx.gets(relative) - before
    assert 1 <= requests <= 3
    # Without the block cache every read the HDF5 library makes is a request of its own.
    before = nginx.gets(relative)
    scan(nginx.url(relative), "-o", tmp_path / "unbuffered.json", "-q", "--block-size", "0")
    assert nginx.gets(relative) - before > 30 * requests
    assert (tmp_path / "unbuffered.json").read_bytes() == (tmp_path / "refs.json").read_bytes()


def test_scattered_chunk_indexes_cost_a_request_per_region_not_per_read(nginx, tmp_path):
    relative = publish(nginx, tmp_path, appended_netcdf(tmp_path / "appended.nc"))
    before = nginx.gets(relative)
    scan(nginx.url(relative), "-o", tmp_path / "refs.json", "-q")
    cached = nginx.gets(relative) - before
    before = nginx.gets(relative)
    scan(nginx.url(relative), "-o", tmp_path / "unbuffered.json", "-q", "--block-size", "0")
    assert nginx.gets(relative) - before > 3 * cached


def test_references_point_at_the_remote_file_and_read_back_through_the_mount(nginx, tmp_path, mounts):
    path = typical_netcdf(tmp_path / "typical.nc", seed=4)
    relative = publish(nginx, tmp_path, path)
    scan(nginx.url(relative), "-o", tmp_path / "refs.json", "-q", "--inline-threshold", "0")
    refs = json.loads((tmp_path / "refs.json").read_text())["refs"]
    assert refs["v3/0.0.0"][0] == nginx.url(relative)
    m = mounts(tmp_path / "refs.json")
    with xr.open_zarr(m.path(), consolidated=False) as mounted, xr.open_dataset(path, engine="netcdf4") as original:
        xr.testing.assert_identical(mounted.load(), original.load())


def test_broken_remotes_fail_by_url_and_the_other_files_finish(nginx, fault_server, tmp_path):
    good = [typical_netcdf(tmp_path / f"good{i}.nc", seed=i) for i in range(3)]
    good_urls = [nginx.url(publish(nginx, tmp_path, path)) for path in good]
    (tmp_path / "text.nc").write_text("<html>not found, but said with a 200</html>\n" * 40)
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good[0].read_bytes()[:100_000])
    shutil.copy(good[1], fault_server.root / "whole.nc")
    bad = {
        nginx.url(f"{tmp_path.name}/missing.nc"): "HTTP 404",
        nginx.url(publish(nginx, tmp_path, tmp_path / "text.nc")): "file signature not found",
        nginx.url(publish(nginx, tmp_path, truncated)): "truncated file",
        fault_server.url("norange", 0, "whole.nc"): "does not serve byte ranges",
    }
    inputs = [good_urls[0], *bad, good_urls[1], good_urls[2]]
    out = scan(*inputs, "--out-dir", tmp_path / "out", "-j", "3", "--failed-list", tmp_path / "failed.txt", check=False)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    for url, reason in bad.items():
        assert any(url in line and reason in line for line in lines), f"no line naming {url} and {reason!r}:\n{out.stderr}"
    assert "4 of 7 inputs failed" in out.stderr
    assert (tmp_path / "failed.txt").read_text().splitlines() == list(bad)
    for path, url in zip(good, good_urls):
        refs = json.loads((tmp_path / "out" / f"{path.name}.json").read_text())["refs"]
        with netCDF4.Dataset(path) as nc:
            assert set(k.split("/")[0] for k in refs if "/" in k) == set(nc.variables)
        assert any(isinstance(v, list) and v[0] == url for v in refs.values())
    # The list is an input list for the re-run.
    rerun = scan(f"@{tmp_path / 'failed.txt'}", "--out-dir", tmp_path / "again", "-q", check=False)
    assert rerun.returncode == 1 and rerun.stderr.count("kerchunkfs-scan: ") == 4


def test_remote_files_combine_as_local_ones_do(nginx, tmp_path):
    paths = []
    for i, (first, steps) in enumerate([(0, 2), (2, 4), (6, 3)]):
        write_day_file(tmp_path / f"day{i}.nc", first, steps)
        paths.append(tmp_path / f"day{i}.nc")
    urls = [nginx.url(publish(nginx, tmp_path, path)) for path in reversed(paths)]
    scan(*urls, "--concat-dim", "time", "-j", "2", "-o", tmp_path / "remote.json", "-q")
    url_template = nginx.url(f"{tmp_path.name}/{{name}}")
    scan(*paths, "--concat-dim", "time", "--url", url_template, "-o", tmp_path / "local.json", "-q")
    assert (tmp_path / "remote.json").read_bytes() == (tmp_path / "local.json").read_bytes()


def test_s3_errors_name_the_url(s3_server, tmp_path):
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="wrong-secret", HOME=str(tmp_path))
    s3_server.put(f"{tmp_path.name}/x.nc", typical_netcdf(tmp_path / "x.nc").read_bytes())
    url = f"s3://{s3_server.bucket}/{tmp_path.name}/x.nc"
    out = scan(url, "-o", tmp_path / "refs.json", "--s3-endpoint", s3_server.endpoint, check=False, env=env)
    assert out.returncode == 1
    assert f"/{s3_server.bucket}/{tmp_path.name}/x.nc" in out.stderr and "403" in out.stderr
    assert "wrong-secret" not in out.stderr
    out = scan(f"s3://{s3_server.bucket}/{tmp_path.name}/absent.nc", "-o", tmp_path / "refs.json",
               "--s3-endpoint", s3_server.endpoint, check=False, env=s3_env(s3_server, tmp_path))
    assert out.returncode == 1 and "absent.nc" in out.stderr and "404" in out.stderr


def test_remote_protocol_and_credential_headers_work_for_scans(s3_server, tmp_path):
    """The daemon's remote options, for scans: inputs without a scheme under --remote-protocol,
    and headers or a bearer token sent to the --auth-hosts alone (a redirect off them carries none)."""
    from test_http_login import HeaderHost
    path = typical_netcdf(tmp_path / "typical.nc")
    scan(path, "-o", tmp_path / "local.json", "-q", "--url", "https://data.example/t.nc")
    expected = (tmp_path / "local.json").read_bytes()

    s3_server.put(f"{tmp_path.name}/typical.nc", path.read_bytes())
    scan(f"{s3_server.bucket}/{tmp_path.name}/typical.nc", "-o", tmp_path / "s3.json", "-q", "--remote-protocol", "s3",
         "--url", "https://data.example/t.nc", env=s3_env(s3_server, tmp_path))
    assert (tmp_path / "s3.json").read_bytes() == expected

    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(path, root / "typical.nc.h5")
    shutil.copy(path, root / "typical.nc")
    server = HeaderHost(root)
    try:
        port = server.server_address[1]
        for name in ("typical.nc", "away/typical.nc.h5"):
            out = tmp_path / "headers.json"
            scan(f"http://127.0.0.1:{port}/{name}", "-o", out, "-q", "--url", "https://data.example/t.nc",
                 "--header", "X-Api-Key: k-123:x", "--header", "X-Team:ocean", "--auth-hosts", "127.0.0.1")
            assert out.read_bytes() == expected, name
        assert server.leaked == [] and server.refused == 0
        refused = scan(f"http://127.0.0.1:{port}/typical.nc", "-o", tmp_path / "no.json", "-q",
                       "--header", "X-Team:ocean", "--auth-hosts", "127.0.0.1", check=False)
        assert refused.returncode != 0 and "403" in refused.stderr
        assert "k-123" not in refused.stderr
    finally:
        server.shutdown()
        server.server_close()
    usage = scan(path, "-o", tmp_path / "x.json", "--header", "X-Key:1", check=False)
    assert usage.returncode == 2
    assert usage.stderr.strip() == ("kerchunkfs-scan: --bearer-token-file and --header need --auth-hosts: "
                                    "the hosts they may go to")
