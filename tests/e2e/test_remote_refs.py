"""Reference sets named by URL (fsspec takes any URL as `fo`): served by nginx and by the S3 test
server, with targets relative to the set's URL, templated ones, gzip-compressed sets, targets
without a scheme under -o remote_protocol, and reload by SIGHUP after the remote set changed."""

import errno
import gzip
import json
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest
import zarr

import h5refs
from conftest import clean_env, kerchunkfs_binary, sanitized


def peak_address_space_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmPeak:"))


def write_source(path, seed):
    data = np.random.default_rng(seed).normal(size=(12, 50)).astype("<f4")
    with h5py.File(path, "w") as f:
        f.create_dataset("v", data=data, chunks=(3, 50), compression="gzip")
    return data


def relative_refs(source, name):
    """References to `source` written as kerchunk's templates or as a bare relative name."""
    refs = h5refs.build(source, url=name)
    templated = {k: (["{{u}}", *v[1:]] if isinstance(v, list) else v) for k, v in refs.items()}
    return refs, {"version": 1, "templates": {"u": name}, "refs": templated}


def test_a_set_served_by_nginx_mounts_by_url_with_relative_and_templated_targets(nginx, tmp_path, mounts):
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    data = write_source(folder / "data.h5", 1)
    plain, templated = relative_refs(folder / "data.h5", "data.h5")
    (folder / "plain.json").write_text(json.dumps(plain))
    (folder / "templated.json.gz").write_bytes(gzip.compress(json.dumps(templated).encode()))
    for name in ("plain.json", "templated.json.gz"):
        m = mounts(nginx.url(f"{tmp_path.name}/{name}"))
        np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)
        assert nginx.gets(f"{tmp_path.name}/data.h5") > 0  # the target relative to the set's URL
        if not sanitized():  # sanitizers reserve terabytes of shadow memory
            # The set is asked for whole, up to its 4 GiB limit: memory is reserved by the size the
            # server answers with, not by that limit.
            assert peak_address_space_kib(m.process.pid) < 2 * 1024 * 1024


def test_watch_reloads_a_set_by_url_when_its_etag_changes(nginx, tmp_path, mounts):
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    first, second = write_source(folder / "first.h5", 6), write_source(folder / "second.h5", 7)
    (folder / "refs.json").write_text(json.dumps(relative_refs(folder / "first.h5", "first.h5")[0]))
    m = mounts(nginx.url(f"{tmp_path.name}/refs.json"), "-o", "watch", "-o", "watch_interval=1")
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], first)
    time.sleep(1.1)  # a new modification time, so a new ETag
    (folder / "refs.json").write_text(json.dumps(relative_refs(folder / "second.h5", "second.h5")[0]))
    deadline = time.time() + 15
    while "reloaded http://" not in m.log() and time.time() < deadline:
        time.sleep(0.2)
    assert "reloaded http://" in m.log(), m.log()
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], second)
    assert m.log().count("reloaded") == 1  # an unchanged set is not loaded again


def test_a_set_in_the_s3_test_server_mounts_by_url_and_reloads_on_sighup(s3_server, tmp_path, mounts):
    first, second = write_source(tmp_path / "first.h5", 2), write_source(tmp_path / "second.h5", 3)
    prefix = tmp_path.name
    for name in ("first.h5", "second.h5"):
        s3_server.put(f"{prefix}/{name}", (tmp_path / name).read_bytes())
    s3_server.put(f"{prefix}/refs.json", json.dumps(relative_refs(tmp_path / "first.h5", "first.h5")[0]).encode())
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(f"s3://{s3_server.bucket}/{prefix}/refs.json", "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], first)
    for reload, (name, data) in enumerate((("second.h5", second), ("first.h5", first)), start=1):
        # Changed twice: each reload reads the set's new version, not the first one the mount saw.
        s3_server.put(f"{prefix}/refs.json", json.dumps(relative_refs(tmp_path / name, name)[0]).encode())
        m.process.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while m.log().count("reloaded s3://") < reload and time.time() < deadline:
            time.sleep(0.1)
        assert m.log().count("reloaded s3://") == reload, m.log()
        np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)


def test_targets_without_a_scheme_are_objects_of_the_remote_protocol(s3_server, tmp_path, mounts):
    data = write_source(tmp_path / "data.h5", 4)
    key = f"{tmp_path.name}/data.h5"
    s3_server.put(key, (tmp_path / "data.h5").read_bytes())
    refs = {"version": 1, "refs": h5refs.build(tmp_path / "data.h5", url=f"{s3_server.bucket}/{key}")}
    (tmp_path / "refs.json").write_text(json.dumps(refs))
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(tmp_path / "refs.json", "-o", "remote_protocol=s3", "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)
    # Without it they are paths relative to the set's folder, which the untrusted-set policy refuses.
    (tmp_path / "mnt").mkdir()
    out = subprocess.run([kerchunkfs_binary(), str(tmp_path / "refs.json"), str(tmp_path / "mnt"), "-f"],
                         capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode == 1 and f"{tmp_path}/{s3_server.bucket}/{key}" in out.stderr


def test_a_remote_set_that_cannot_be_had_is_one_clear_error(nginx, tmp_path):
    (tmp_path / "mnt").mkdir()
    url = nginx.url(f"{tmp_path.name}/absent.json")
    out = subprocess.run([kerchunkfs_binary(), url, str(tmp_path / "mnt"), "-f"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    assert out.stderr.startswith(f"kerchunkfs: {url}: ") and "404" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    (nginx.root / f"{tmp_path.name}-bad.json").write_text('{"version": 1, "refs": {"a": ')
    bad = nginx.url(f"{tmp_path.name}-bad.json")
    out = subprocess.run([kerchunkfs_binary(), bad, str(tmp_path / "mnt"), "-f"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and out.stderr.startswith(f"kerchunkfs: {bad}: "), out.stderr


def test_a_published_set_with_scheme_less_targets_reads_from_the_s3_test_server(s3_server, tmp_path, mounts):
    """rly/kerchunk-playground's set names era5-pds/... without a scheme (written for fsspec's
    remote_protocol="s3"): an object of random bytes at that key in a bucket of that name stands
    in for the file, and each chunk file reads the range its reference names."""
    from test_parquet import FIXTURES
    if FIXTURES is None:
        pytest.skip("the shared fixtures (../shared/fixtures) are not beside this checkout nor its origin")
    published = FIXTURES / "realrefs" / "rly__kerchunk-playground__02_sea_surface_temperature.json"
    refs = json.loads(published.read_text())["refs"]
    ranges = {k: v for k, v in refs.items() if isinstance(v, list) and len(v) == 3}
    (url,) = {v[0] for v in ranges.values()}
    bucket, key = url.split("/", 1)
    size = max(offset + length for _, offset, length in ranges.values())
    blob = np.random.default_rng(5).integers(0, 256, size, dtype=np.uint8).tobytes()
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key=key, Body=blob)
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    m = mounts(published, "-o", "remote_protocol=s3", "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    sample = sorted(ranges)[:: max(1, len(ranges) // 40)]
    for name in sample:
        _, offset, length = ranges[name]
        assert m.path(name).read_bytes() == blob[offset:offset + length], name


def scanned_parquet(source, out, url):
    """The scanner's parquet layout of `source`, its targets named `url` (relative, say)."""
    from conftest import scan
    scan(source, "-o", out, "--url", url, "--record-size", "2")
    assert (out / ".zmetadata").exists() and list(out.glob("v/refs.*.parq"))


def test_a_parquet_set_mounts_by_url_from_nginx_and_the_s3_server(nginx, s3_server, tmp_path, mounts):
    """kerchunk's parquet layout by URL: .zmetadata fetched at mount, each refs file when a chunk
    of it is first looked up; targets relative to the set's folder; reload by -o watch when the
    .zmetadata changes."""
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    data = write_source(folder / "data.h5", 11)
    scanned_parquet(folder / "data.h5", folder / "refs.parq", "data.h5")
    m = mounts(nginx.url(f"{tmp_path.name}/refs.parq"), "-o", "watch", "-o", "watch_interval=1")
    assert nginx.gets(f"{tmp_path.name}/refs.parq/v/refs.0.parq") == 0  # nothing read before a lookup
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)
    assert nginx.gets(f"{tmp_path.name}/refs.parq/.zmetadata") >= 1
    assert nginx.gets(f"{tmp_path.name}/refs.parq/v/refs.1.parq") == 1
    assert nginx.gets(f"{tmp_path.name}/data.h5") > 0

    # The set rewritten for another file: the new .zmetadata's ETag triggers a reload.
    other = write_source(folder / "other.h5", 12)
    time.sleep(1.1)
    scanned_parquet(folder / "other.h5", folder / "next.parq", "other.h5")
    for name in ("v/refs.0.parq", "v/refs.1.parq", "v/refs.2.parq", "v/refs.3.parq", "v/refs.4.parq",
                 "v/refs.5.parq", ".zmetadata"):
        if (folder / "next.parq" / name).exists():
            (folder / "refs.parq" / name).write_bytes((folder / "next.parq" / name).read_bytes())
    deadline = time.time() + 15
    while "reloaded http://" not in m.log() and time.time() < deadline:
        time.sleep(0.2)
    assert "reloaded http://" in m.log(), m.log()
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], other)

    prefix = f"{tmp_path.name}/s3"
    s3_server.put(f"{prefix}/data.h5", (folder / "data.h5").read_bytes())
    scanned_parquet(folder / "data.h5", tmp_path / "s3.parq", "data.h5")
    for path in (tmp_path / "s3.parq").rglob("*"):
        if path.is_file():
            s3_server.put(f"{prefix}/refs.parq/{path.relative_to(tmp_path / 's3.parq')}", path.read_bytes())
    env = clean_env(AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", HOME=str(tmp_path))
    s3 = mounts(f"s3://{s3_server.bucket}/{prefix}/refs.parq/", "-o", f"s3_endpoint={s3_server.endpoint}", env=env)
    np.testing.assert_array_equal(zarr.open_array(str(s3.path("v")), mode="r")[...], data)


def test_a_refs_file_missing_by_url_is_missing_chunks_and_one_refused_is_eio_for_its_chunks_alone(
        nginx, tmp_path, mounts):
    """A refs file the server does not have (404) holds missing chunks, as kerchunk's layout
    means (its writers write none for records without chunks): not found, the reader's fill value.
    One the server refuses (403) is EIO for its chunks alone, with a log line."""
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    data = write_source(folder / "data.h5", 13)  # chunks 0.0 … 3.0 of 3 rows; refs.1.parq holds 2.0 and 3.0
    scanned_parquet(folder / "data.h5", folder / "missing.parq", "data.h5")
    scanned_parquet(folder / "data.h5", folder / "refused.parq", "data.h5")
    (folder / "missing.parq" / "v" / "refs.1.parq").unlink()
    (folder / "refused.parq" / "v" / "refs.1.parq").unlink()
    (folder / "refused.parq" / "v" / "refs.1.parq").mkdir()  # nginx refuses to list a folder: 403

    m = mounts(nginx.url(f"{tmp_path.name}/missing.parq"))
    assert sorted(p.name for p in m.path("v").iterdir()) == [".zarray", ".zattrs", "0.0", "1.0"]
    with pytest.raises(FileNotFoundError):
        m.path("v/2.0").read_bytes()
    fill = json.loads(m.path("v/.zarray").read_text())["fill_value"]
    expected = data.copy()
    expected[6:] = fill
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], expected)
    assert "v/2.0" not in m.log(), m.log()

    m = mounts(nginx.url(f"{tmp_path.name}/refused.parq"))
    assert m.path("v/0.0").read_bytes()  # in refs.0.parq
    with pytest.raises(OSError) as raised:
        m.path("v/2.0").read_bytes()
    assert raised.value.errno == errno.EIO
    assert "refs.1.parq" in m.log() and "403" in m.log(), m.log()
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[:6], data[:6])
