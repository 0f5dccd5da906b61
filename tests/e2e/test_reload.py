"""Live reload: SIGHUP (or a changed reference file with -o watch) swaps the reference set while
readers keep reading — every read sees one version whole, never an error or mixed bytes; a bad
new file leaves the old one serving."""

import json
import os
import signal
import threading
import time

import numpy as np

FILES = 8
SIZE = 300_000  # more than two 128 KiB reads: a file is read in several requests


def write_version(tmp_path, version, extra=False):
    """refs.json pointing every data/i at version `version`'s bytes on disk."""
    target = tmp_path / f"v{version}.bin"
    if not target.exists():
        target.write_bytes(np.random.default_rng(version).integers(0, 256, FILES * SIZE, dtype=np.uint8).tobytes())
    refs = {".zgroup": '{"zarr_format": 2}', "release": str(version)}
    for i in range(FILES):
        refs[f"data/{i}"] = [str(target), i * SIZE, SIZE]
    if extra:
        refs["only_in_new/x"] = "new"
    path = tmp_path / "refs.json"
    temporary = tmp_path / "refs.json.tmp"
    temporary.write_text(json.dumps(refs))
    os.replace(temporary, path)  # how a careful writer replaces it
    return path


def expected_contents(tmp_path, versions):
    return {v: [(tmp_path / f"v{v}.bin").read_bytes()[i * SIZE:(i + 1) * SIZE] for i in range(FILES)] for v in versions}


def test_sighup_swaps_the_set_under_concurrent_readers_without_errors_or_mixed_bytes(tmp_path, mounts):
    write_version(tmp_path, 2)
    refs = write_version(tmp_path, 1)
    contents = expected_contents(tmp_path, (1, 2))
    m = mounts(refs)
    problems, reads, stop = [], [0], threading.Event()

    def reader(worker):
        while not stop.is_set():
            i = (worker + reads[0]) % FILES
            try:
                with open(m.path(f"data/{i}"), "rb") as f:
                    data = f.read()
            except OSError as error:
                problems.append(f"data/{i}: {error}")
                continue
            if data != contents[1][i] and data != contents[2][i]:
                problems.append(f"data/{i}: bytes of neither version ({len(data)} bytes)")
            reads[0] += 1

    threads = [threading.Thread(target=reader, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    seen = set()
    for round_ in range(12):
        version = 2 if round_ % 2 == 0 else 1
        write_version(tmp_path, version)
        m.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while (m.path("release")).read_text() != str(version):  # new lookups see the new set
            assert time.monotonic() < deadline, m.log()
            time.sleep(0.01)
        seen.add(version)
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert not problems, problems[:5]
    assert reads[0] > 50 and seen == {1, 2}
    assert m.log().count("reloaded") == 12


def test_an_open_file_keeps_reading_the_version_it_opened(tmp_path, mounts):
    write_version(tmp_path, 2)
    refs = write_version(tmp_path, 1)
    contents = expected_contents(tmp_path, (1, 2))
    m = mounts(refs)
    with open(m.path("data/3"), "rb") as f:
        first = f.read(1000)
        write_version(tmp_path, 2, extra=True)
        m.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not (m.path("only_in_new")).exists():  # a key only the new set has appears
            assert time.monotonic() < deadline, m.log()
            time.sleep(0.01)
        rest = f.read()
    assert first + rest == contents[1][3]
    assert (m.path("data/3")).read_bytes() == contents[2][3]
    assert (m.path("only_in_new/x")).read_text() == "new"


def test_a_bad_new_file_is_refused_and_the_old_set_keeps_serving(tmp_path, mounts):
    refs = write_version(tmp_path, 1)
    contents = expected_contents(tmp_path, (1,))
    m = mounts(refs)
    refs.write_text('{"version": 1, "refs": {"a": [1, 2')
    m.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "reload failed" not in m.log():
        assert time.monotonic() < deadline, m.log()
        time.sleep(0.01)
    line = next(l for l in m.log().splitlines() if "reload failed" in l)
    assert "still serving the previous reference set" in line and str(refs) in line
    assert (m.path("data/5")).read_bytes() == contents[1][5]
    assert m.process.poll() is None


def test_watch_reloads_when_the_file_changes(tmp_path, mounts):
    refs = write_version(tmp_path, 1)
    m = mounts(refs, "-o", "watch")
    assert (m.path("release")).read_text() == "1"
    write_version(tmp_path, 2)
    deadline = time.monotonic() + 15
    while (m.path("release")).read_text() != "2":
        assert time.monotonic() < deadline, m.log()
        time.sleep(0.05)
    assert (m.path("data/0")).read_bytes() == expected_contents(tmp_path, (2,))[2][0]
