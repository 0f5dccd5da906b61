"""The persistent disk cache (-o disk_cache=DIR): blocks kept across mounts, validated by the
object's ETag, checksummed, bounded, shared by two daemons, and never fatal. Requests are counted
in nginx's log; bytes are checked against the HDF5 file's own bytes and values against h5py."""

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

import h5refs


def write_source(path, seed, rows=64):
    """An HDF5 file of `rows` uncompressed 16 KiB chunks: rewritten with another seed, its chunks
    lie at the same offsets, so the same references describe the changed object."""
    data = np.random.default_rng(seed).normal(size=(rows, 4096)).astype("<f4")
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("v", data=data, chunks=(1, 4096))
    return data


def served_set(nginx, folder, name="data.h5", seed=1, rows=64):
    """A source in nginx's root and its references (a local file: only the data is remote)."""
    data = write_source(folder / name, seed, rows)
    refs = h5refs.build(folder / name, url=nginx.url(f"{folder.name}/{name}"))
    path = folder.parent / f"{folder.name}-{name}.json"
    path.write_text(json.dumps(refs))
    return path, refs, data


def chunk_keys(refs):
    return sorted(k for k, v in refs.items() if isinstance(v, list))


def expected_bytes(source, refs, key):
    _, offset, length = refs[key]
    with open(source, "rb") as f:
        f.seek(offset)
        return f.read(length)


def stats(m):
    text = m.path(".kerchunkfs/stats").read_text()
    return {name: float(value) for name, value in re.findall(r"^kerchunkfs_(\w+) (\S+)$", text, re.M)}


def block_files(directory):
    return [p for p in Path(directory).rglob("*") if p.is_file() and p.parent.parent.parent.name == "objects"
            and p.name != "object" and not p.name.startswith(".tmp-")]


@pytest.fixture
def folder(nginx, tmp_path):
    path = nginx.root / tmp_path.name
    path.mkdir()
    return path


def read_all(m, data):
    np.testing.assert_array_equal(zarr.open_array(str(m.path("v")), mode="r")[...], data)


def test_a_second_mount_reads_from_disk_with_no_request_or_one_check_per_object(nginx, folder, tmp_path, mounts):
    refs_path, refs, data = served_set(nginx, folder)
    name = f"{folder.name}/data.h5"
    cache = tmp_path / "cache"
    cache.mkdir()
    first = mounts(refs_path, "-o", f"disk_cache={cache}")
    read_all(first, data)
    cold = nginx.gets(name)
    assert cold > 0
    first.unmount()
    assert len(block_files(cache)) == len(chunk_keys(refs))

    # Trusted (confirmed within the hour): not a single request.
    trusted = mounts(refs_path, "-o", f"disk_cache={cache}", "-o", "disk_cache_trust=3600")
    read_all(trusted, data)
    for key in chunk_keys(refs):
        assert trusted.path(key).read_bytes() == expected_bytes(folder / "data.h5", refs, key)
    counted = stats(trusted)
    trusted.unmount()
    assert nginx.gets(name) == cold
    assert counted["disk_cache_hits_total"] == len(chunk_keys(refs))

    # By default the object's version is asked once a mount: a one-byte request, then the disk.
    checked = mounts(refs_path, "-o", f"disk_cache={cache}")
    read_all(checked, data)
    counted = stats(checked)
    checked.unmount()
    assert nginx.gets(name) == cold + 1
    assert counted["disk_cache_confirmed_objects_total"] == 1
    assert counted["disk_cache_hits_total"] == len(chunk_keys(refs))


def filled_cache(mounts, refs_path, data, cache):
    """`cache` made and filled by a first mount that reads everything, then unmounted."""
    cache.mkdir()
    first = mounts(refs_path, "-o", f"disk_cache={cache}")
    read_all(first, data)
    first.unmount()
    return cache


def test_a_corrupt_block_is_detected_and_fetched_again(nginx, folder, tmp_path, mounts):
    refs_path, refs, data = served_set(nginx, folder)
    cache = filled_cache(mounts, refs_path, data, tmp_path / "cache")
    blocks = sorted(block_files(cache))
    flipped, truncated = blocks[3], blocks[7]
    raw = bytearray(flipped.read_bytes())
    raw[-100] ^= 0x40  # a bit of the chunk's bytes, not of the header
    flipped.write_bytes(bytes(raw))
    truncated.write_bytes(truncated.read_bytes()[:-10])
    gets = nginx.gets(f"{folder.name}/data.h5")

    second = mounts(refs_path, "-o", f"disk_cache={cache}", "-o", "disk_cache_trust=3600")
    for key in chunk_keys(refs):
        assert second.path(key).read_bytes() == expected_bytes(folder / "data.h5", refs, key)
    read_all(second, data)
    counted = stats(second)
    assert counted["disk_cache_corrupt_total"] == 2
    assert gets < nginx.gets(f"{folder.name}/data.h5") <= gets + 2  # those two, fetched again
    assert "do not match their checksum" in second.log() and "of the wrong size" in second.log()


def test_a_changed_object_is_fetched_again_never_served_from_disk(nginx, folder, tmp_path, mounts):
    refs_path, refs, old = served_set(nginx, folder)
    cache = filled_cache(mounts, refs_path, old, tmp_path / "cache")
    time.sleep(1.1)  # nginx's ETag is the modification time (seconds) and the size
    new = write_source(folder / "data.h5", 2)
    assert h5refs.build(folder / "data.h5", url=refs[chunk_keys(refs)[0]][0]) == refs  # the same layout
    second = mounts(refs_path, "-o", f"disk_cache={cache}")
    read_all(second, new)
    counted = stats(second)
    assert counted["disk_cache_changed_objects_total"] == 1
    assert counted["disk_cache_hits_total"] == 0
    second.unmount()
    # The new version's blocks replaced the old ones: a third mount serves them from disk.
    third = mounts(refs_path, "-o", f"disk_cache={cache}")
    read_all(third, new)
    assert stats(third)["disk_cache_hits_total"] == len(chunk_keys(refs))


def test_the_cache_stays_within_its_size(nginx, folder, tmp_path, mounts):
    refs_path, refs, data = served_set(nginx, folder, rows=256)  # 4 MiB of 16 KiB blocks
    cache = tmp_path / "cache"
    cache.mkdir()
    m = mounts(refs_path, "-o", f"disk_cache={cache}", "-o", "disk_cache_size=1M")
    read_all(m, data)
    for _ in range(2):
        read_all(m, data)
    counted = stats(m)
    m.unmount()
    one_block = max(p.stat().st_size for p in block_files(cache))
    held = sum(p.stat().st_size for p in block_files(cache))
    assert held <= (1 << 20) + one_block
    assert held > (1 << 20) // 2  # it does cache
    assert counted["disk_cache_evictions_total"] > 0
    assert counted["disk_cache_bytes"] <= (1 << 20) + one_block


def test_two_daemons_sharing_a_directory_read_correct_bytes(nginx, folder, tmp_path, mounts):
    refs_path, refs, data = served_set(nginx, folder, rows=128)
    source = folder / "data.h5"
    cache = tmp_path / "cache"
    cache.mkdir()
    keys = chunk_keys(refs)
    daemons = [mounts(refs_path, "-o", f"disk_cache={cache}", "-o", "disk_cache_size=1M") for _ in range(2)]
    wrong = []

    def reader(m, order):
        for _ in range(3):
            for key in order:
                if m.path(key).read_bytes() != expected_bytes(source, refs, key):
                    wrong.append((m.mountpoint, key))

    rng = np.random.default_rng(0)
    threads = [threading.Thread(target=reader, args=(m, list(rng.permutation(keys)))) for m in daemons for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    for m in daemons:
        read_all(m, data)
        m.unmount()
    held = sum(p.stat().st_size for p in block_files(cache))
    assert held <= (1 << 20) + max(p.stat().st_size for p in block_files(cache))
    after = mounts(refs_path, "-o", f"disk_cache={cache}", "-o", "disk_cache_trust=3600")
    for key in keys:
        assert after.path(key).read_bytes() == expected_bytes(source, refs, key)


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path = tmp_path / "tmpfs"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)], check=True)
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_keeps_the_mount_working(nginx, folder, small_tmpfs, mounts):
    refs_path, refs, data = served_set(nginx, folder)  # 1 MiB of blocks for a 256 KiB disk
    m = mounts(refs_path, "-o", f"disk_cache={small_tmpfs}")
    read_all(m, data)
    read_all(m, data)
    counted = stats(m)
    assert counted["disk_cache_write_failures_total"] > 0
    assert m.log().count("No space left on device") == 1, m.log()


def test_a_read_only_or_missing_directory_means_memory_only(nginx, folder, small_tmpfs, tmp_path, mounts):
    refs_path, _, data = served_set(nginx, folder)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    for directory, message in ((small_tmpfs, "Read-only file system"), (tmp_path / "absent", "No such file")):
        m = mounts(refs_path, "-o", f"disk_cache={directory}")
        read_all(m, data)
        assert "no disk cache, memory only" in m.log() and message in m.log(), m.log()
        assert "disk_cache_hits_total" not in m.path(".kerchunkfs/stats").read_text()
