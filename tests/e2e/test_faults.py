"""Remote servers that fail in every way, under concurrent readers: every read through the mount
is either the right bytes or EIO, never a wrong byte; memory stays within the cache plus a stated
overhead; connections and threads do not pile up. An object that changes while mounted gives EIO
for what was not read before, never old and new bytes mixed."""

import errno
import os
import random
import threading
import time

import pytest

from conftest import sanitized, write_refs

CHUNK = 16 * 1024
CHUNKS = 512                   # an 8 MiB object: eight times the cache below
CACHE = 1 << 20
# What the daemon holds besides the block cache: its code and libraries, the reference set,
# libcurl's buffers for the connections in use, FUSE request buffers, thread stacks in use.
OVERHEAD = 32 << 20


def status_of(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def sockets_of(pid):
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def read_uncached(path):
    """The file's bytes, read through the daemon: the page cache is dropped for it afterwards."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, CHUNK + 1, 0)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return data
    finally:
        os.close(fd)


def test_mixed_failures_under_16_readers_never_give_a_wrong_byte(fault_server, tmp_path, mounts):
    source = random.Random(9).randbytes(CHUNK * CHUNKS)
    (fault_server.root / "object.bin").write_bytes(source)
    fault_server.stall_s = 1.5  # past the daemon's one-second timeout
    url = fault_server.url("mixed", 10, "object.bin")
    refs = write_refs(tmp_path / "refs.json", {f"c/{i}": [url, i * CHUNK, CHUNK] for i in range(CHUNKS)})
    m = mounts(refs, "-o", f"cache_size={CACHE},prefetch=0,timeout=1,retries=6,retry_delay=5,max_connections=16")
    pid = m.process.pid
    results = {"right": 0, "eio": 0, "wrong": 0, "other": []}
    lock = threading.Lock()

    def reader(seed, reads):
        rng = random.Random(seed)
        for _ in range(reads):
            i = rng.randrange(CHUNKS)
            try:
                data = read_uncached(m.path(f"c/{i}"))
                outcome = "right" if data == source[i * CHUNK:(i + 1) * CHUNK] else "wrong"
            except OSError as error:
                if error.errno != errno.EIO:
                    with lock:
                        results["other"].append(repr(error))
                    continue
                outcome = "eio"
            with lock:
                results[outcome] += 1

    peaks = []
    for round_ in range(2):
        threads = [threading.Thread(target=reader, args=(round_ * 100 + k, 100)) for k in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads), "a reader hung"
        time.sleep(0.5)
        peaks.append((int(status_of(pid)["Threads"]), sockets_of(pid)))

    assert results["wrong"] == 0
    assert results["other"] == []
    assert results["right"] + results["eio"] == 3200
    assert results["right"] >= 0.99 * 3200, results  # retries absorb nearly every failure
    faults = {k: v for k, v in fault_server.faults.items() if k != "ok"}
    assert set(faults) == set(fault_server.FAULTS), faults  # every kind of failure happened
    assert sum(faults.values()) >= 0.05 * sum(fault_server.faults.values())
    # Nothing piles up from one round to the next: threads and connections stay bounded.
    (threads_1, sockets_1), (threads_2, sockets_2) = peaks
    assert threads_2 <= max(threads_1, 16) + 2, peaks
    assert sockets_2 <= 16 + 2 and sockets_1 <= 16 + 2, peaks
    peak_kib = int(status_of(pid)["VmHWM"].split()[0])
    print(f"reads: {results}; faults served: {fault_server.faults}; peak RSS {peak_kib} KiB; "
          f"threads/sockets after each round: {peaks}")
    if not sanitized():  # sanitizers' shadow memory and quarantine are not the daemon's
        assert peak_kib * 1024 <= CACHE + OVERHEAD
    log = m.log()
    assert "Sanitizer" not in log


def test_an_object_that_changes_while_mounted_gives_eio_never_mixed_bytes(nginx, tmp_path, mounts):
    name = f"{tmp_path.name}-changing.bin"
    old = random.Random(1).randbytes(64 * 1024)
    new = random.Random(2).randbytes(64 * 1024)
    path = nginx.root / name
    path.write_bytes(old)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    refs = write_refs(tmp_path / "refs.json", {"a": [nginx.url(name), 0, 1000], "b": [nginx.url(name), 40_000, 1000]})
    m = mounts(refs, "-o", "prefetch=0")
    assert m.path("a").read_bytes() == old[:1000]
    path.write_bytes(new)  # a new ETag and Last-Modified
    os.utime(path, (1_700_000_000, 1_700_000_000))
    with pytest.raises(OSError) as error:
        m.path("b").read_bytes()
    assert error.value.errno == errno.EIO
    assert "the object changed since it was first read" in m.log()
    assert m.path("a").read_bytes() == old[:1000]  # what was read stays what it was
