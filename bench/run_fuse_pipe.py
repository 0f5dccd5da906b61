"""The FUSE pipe itself: a cold sequential read of 1 GiB of a local file through the mount, and
16 concurrent readers of different chunk files, each beside the same reading of a null FUSE file
system (bench/null_fuse.cpp: reads answered from a buffer of zeros, nothing else) in the same run,
and beside reading the local file itself (the page cache).

Usage: scripts/build && /usr/bin/python3 bench/run_fuse_pipe.py [--runs 5] [--size-mib 1024]
Writes bench/results/fuse_pipe.md. The local file is read once first, so every path reads from
the page cache and the figures compare the pipes, not the disk.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from run_http_read import mounted  # noqa: E402

ANCHOR = "null FUSE, sequential, cold, 512 KiB window (as kerchunkfs)"
NULL_FUSE = REPO / "build" / "bench" / "kerchunkfs-bench-null-fuse"
READ = 1 << 20
READERS = 16
WINDOW_KIB = 512  # what kerchunkfs sets for its mounts (daemon/readahead.h)


def read_all(path, buffer):
    """Seconds to read `path` from start to end in 1 MiB reads."""
    fd = os.open(path, os.O_RDONLY)
    try:
        start = time.perf_counter()
        while os.readv(fd, [buffer]) > 0:
            pass
        return time.perf_counter() - start
    finally:
        os.close(fd)


def concurrent(paths):
    """Seconds for one thread per path to read its file whole."""
    threads = [threading.Thread(target=read_all, args=(p, bytearray(READ))) for p in paths]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def set_window(mountpoint, kib):
    """The kernel's readahead window for a mount, as kerchunkfs sets its own (root only)."""
    device = next(line.split()[2] for line in open("/proc/self/mountinfo") if line.split()[4] == str(mountpoint))
    Path(f"/sys/class/bdi/{device}/read_ahead_kb").write_text(f"{kib}\n")


@contextlib.contextmanager
def null_fuse(size, count, window_kib=WINDOW_KIB):
    with tempfile.TemporaryDirectory() as mountpoint:
        process = subprocess.Popen([str(NULL_FUSE), mountpoint, str(size), str(count)])
        while not os.path.ismount(mountpoint):
            if process.poll() is not None:
                raise RuntimeError("the null FUSE file system exited")
            time.sleep(0.005)
        set_window(mountpoint, window_kib)
        try:
            yield Path(mountpoint)
        finally:
            subprocess.run(["fusermount3", "-u", mountpoint], check=True)
            process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib << 20
    piece = size // READERS
    figures = {}

    def record(what, seconds, nbytes):
        figures.setdefault(what, []).append(nbytes / seconds / 1e9)

    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data.bin"
        with open(data, "wb") as out:
            for _ in range(args.size_mib):
                out.write(os.urandom(READ))
        refs = Path(work) / "refs.json"
        refs.write_text(json.dumps({"version": 1, "refs": {
            "range": [str(data), 0, size], "whole": [str(data)],
            **{f"chunk/{i}": [str(data), i * piece, piece] for i in range(READERS)}}}))
        buffer = bytearray(READ)
        read_all(data, buffer)  # into the page cache
        for _ in range(args.runs):
            record("local file (page cache), sequential", read_all(data, buffer), size)
            for window in (128, 1024):
                with null_fuse(size, 1, window) as nf:
                    record(f"null FUSE, sequential, cold, {window} KiB window", read_all(nf / "0", buffer), size)
            with null_fuse(size, READERS) as nf:
                record(ANCHOR, read_all(nf / "0", buffer), size)
                paths = [nf / str(i) for i in range(READERS)]
                concurrent(paths)
                record(f"null FUSE, {READERS} readers of different files, warm", concurrent(paths), size * READERS)
            with null_fuse(piece, READERS) as nf:
                paths = [nf / str(i) for i in range(READERS)]
                record(f"null FUSE, {READERS} readers of different files, cold", concurrent(paths), size)
            for name in ("range", "whole"):
                with mounted(refs, options=[f"allow_local={work}"]) as m:
                    record(f"kerchunkfs, sequential, cold ({name} reference)", read_all(m / name, buffer), size)
            with mounted(refs, options=[f"allow_local={work}"]) as m:
                paths = [m / "chunk" / str(i) for i in range(READERS)]
                record(f"kerchunkfs, {READERS} readers of different chunk files, cold", concurrent(paths), size)
                record(f"kerchunkfs, {READERS} readers of different chunk files, warm", concurrent(paths), size)

    medians = {what: statistics.median(values) for what, values in figures.items()}
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with `/usr/bin/python3 "
             f"bench/run_fuse_pipe.py --runs {args.runs} --size-mib {args.size_mib}` (medians; 1 MiB reads; "
             "the local file in the page cache first; run as root, which may set a mount's readahead window). "
             "The null FUSE file system answers every read from a buffer of zeros: the pipe alone. The window "
             "sets the size of a sequential reader's requests; kerchunkfs sets 512 KiB for its mounts, the "
             "kernel's default is 128 KiB. Last column: × the null FUSE figure of the same reading, same "
             "window, in the same run.", "",
             "| reading | GB/s | × null FUSE |", "|---|---|---|"]
    for what, value in medians.items():
        anchor = None
        if "sequential, cold" in what:
            anchor = medians[ANCHOR]
        elif "readers" in what:
            kind = "cold" if what.endswith("cold") else "warm"
            anchor = medians[f"null FUSE, {READERS} readers of different files, {kind}"]
        ratio = f"{value / anchor:.2f}" if anchor else ""
        lines.append(f"| {what} | {value:.2f} | {ratio} |")
    text = "\n".join(lines) + "\n"
    (REPO / "bench" / "results" / "fuse_pipe.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
