"""Reference-set load benchmark: time and memory to load 1M and 10M chunk references.

Usage: /usr/bin/python3 bench/run_refstore_load.py [--sizes 1000000,10000000] [--runs 3] [--fsspec-max N] [--idle S]
Run from the repository root after scripts/build. Prints a Markdown table (and writes it to
bench/results/refstore_load.md). Synthetic inputs are cached in build/bench-data/. Every row is
measured twice: back to back (memory freed by the previous run is reused) and after S idle
seconds (fresh memory, which on these virtual machines costs a host fault on first touch).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "build" / "bench-data"
LOADER = REPO / "build" / "bench" / "kerchunkfs-bench-load"
DAEMON = REPO / "build" / "daemon" / "kerchunkfs"
FIRST_TOUCH = REPO / "build" / "bench" / "kerchunkfs-bench-first-touch"
READ_FILE = REPO / "build" / "bench" / "kerchunkfs-bench-read-file"


def parse_fields(line):
    words = line.split()
    return {words[i]: float(words[i + 1]) for i in range(0, len(words) - 1, 2)}


def reference_file(n):
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"refs-{n}.json"
    if not path.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_refs.py"), str(n), str(path)], check=True)
    return path


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])


def mount_ready(refs, daemon=DAEMON):
    """Seconds from starting the daemon until the mount answers, its RSS then and its peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        process = subprocess.Popen([str(daemon), str(refs), tmp, "-f", "-o", "allow_local=/"], stderr=subprocess.PIPE)
        while not os.path.ismount(tmp):
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode())
            time.sleep(0.002)
        os.listdir(tmp)
        seconds = time.perf_counter() - start
        rss, peak = status_kib(process.pid, "VmRSS"), status_kib(process.pid, "VmHWM")
        subprocess.run(["fusermount3", "-u", tmp], check=True)
        process.wait()
        return seconds, rss, peak


def first_touch_ms_per_mb(megabytes=500):
    out = subprocess.run([str(FIRST_TOUCH), str(megabytes)], check=True, capture_output=True, text=True).stdout
    return parse_fields(out)["ms_per_mb"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fsspec-max", type=int, default=10_000_000, help="largest size also loaded with fsspec")
    parser.add_argument("--idle", type=float, default=3.0,
                        help="seconds to wait before each run of the fresh-memory rows")
    args = parser.parse_args()

    # Two states of the machine's memory. Back to back, a run reuses memory the previous one
    # freed; after some idle seconds, this kind of virtual machine has handed freed memory back
    # to its host, and every fresh page costs a host fault on first touch (see first_touch.cpp).
    modes = [("reused", 0.0), (f"fresh ({args.idle:g} s idle)", args.idle)]

    def runs_of(command, idle):
        results = []
        for _ in range(args.runs):
            time.sleep(idle)
            results.append(command())
        return results

    sizes = [int(s) for s in args.sizes.split(",")]
    measured = {}
    for n in sizes:
        refs = reference_file(n)
        for mode, idle in modes:
            runs = runs_of(lambda: parse_fields(subprocess.run([str(LOADER), str(refs)], check=True, capture_output=True,
                                                               text=True).stdout), idle)
            # The same loader reading the file where it is mapped (no read window), interleaved
            # with nothing else: what the window buys in this state.
            in_place = runs_of(lambda: parse_fields(subprocess.run([str(LOADER), str(refs), "0"], check=True,
                                                                   capture_output=True, text=True).stdout), idle)
            mounts = runs_of(lambda: mount_ready(refs), idle)
            fsspec = None
            if n <= args.fsspec_max:
                # As many runs as ours, medians: its time varies as much from run to run.
                fsspec_runs = runs_of(lambda: parse_fields(subprocess.run(
                    ["/usr/bin/python3", str(REPO / "bench" / "fsspec_load.py"), str(refs)], check=True,
                    capture_output=True, text=True).stdout), idle)
                fsspec = {field: statistics.median(r[field] for r in fsspec_runs) for field in fsspec_runs[0]}
                fsspec["peak_kib"] = max(r["peak_kib"] for r in fsspec_runs)
            measured[n, mode] = (refs.stat().st_size / 1e6, runs, mounts, fsspec, in_place)
    touch = {mode: statistics.median(runs_of(first_touch_ms_per_mb, idle)) for mode, idle in modes}
    largest = reference_file(max(sizes))
    passes = {mode: runs_of(lambda: parse_fields(subprocess.run([str(READ_FILE), str(largest)], check=True,
                                                                capture_output=True, text=True).stdout), idle)
              for mode, idle in modes}

    # The anchor: fsspec loading the smallest set, in this same run and the same memory state.
    anchor_n = min((n for n in sizes if n <= args.fsspec_max), default=None)

    rows = []
    for n in sizes:
        for mode, _ in modes:
            json_mb, runs, mounts, fsspec, in_place = measured[n, mode]
            anchor = measured[anchor_n, mode][3]["seconds"] if anchor_n else None

            def ratio(seconds):
                return f"{seconds / anchor:.2f}" if anchor else ""

            seconds = statistics.median(r["seconds"] for r in runs)
            rss = statistics.median(r["rss_kib"] for r in runs) * 1024
            peak = max(r["peak_kib"] for r in runs) * 1024
            faults = statistics.median(r["page_faults"] for r in runs)
            index = runs[0]["index_bytes"]
            rows.append((f"{n:,}", f"{json_mb:.0f} MB", mode, "kerchunkfs refstore", f"{seconds:.2f} s",
                         ratio(seconds), f"{rss / 1e6:.0f} MB", f"{rss / n:.0f}", f"{peak / 1e6:.0f} MB",
                         f"{faults:,.0f}", f"{index / n:.1f}"))
            place_seconds = statistics.median(r["seconds"] for r in in_place)
            rows.append((f"{n:,}", f"{json_mb:.0f} MB", mode, "kerchunkfs refstore, no read window",
                         f"{place_seconds:.2f} s", ratio(place_seconds), "", "",
                         f"{max(r['peak_kib'] for r in in_place) * 1024 / 1e6:.0f} MB",
                         f"{statistics.median(r['page_faults'] for r in in_place):,.0f}", ""))
            ready = statistics.median(m[0] for m in mounts)
            ready_rss = statistics.median(m[1] for m in mounts) * 1024
            rows.append((f"{n:,}", f"{json_mb:.0f} MB", mode, "kerchunkfs mount ready", f"{ready:.2f} s", ratio(ready),
                         f"{ready_rss / 1e6:.0f} MB", f"{ready_rss / n:.0f}",
                         f"{max(m[2] for m in mounts) * 1024 / 1e6:.0f} MB", "", ""))
            if fsspec:
                rows.append((f"{n:,}", f"{json_mb:.0f} MB", mode, "fsspec ReferenceFileSystem",
                             f"{fsspec['seconds']:.2f} s", ratio(fsspec["seconds"]),
                             f"{fsspec['rss_kib'] * 1024 / 1e6:.0f} MB", f"{fsspec['rss_kib'] * 1024 / n:.0f}",
                             f"{fsspec['peak_kib'] * 1024 / 1e6:.0f} MB", "", ""))

    header = ("references", "JSON", "memory", "loader", "load time", f"× fsspec {anchor_n:,}" if anchor_n else "×",
              "resident after load", "bytes/ref resident", "peak resident", "page faults", "bytes/ref index")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    table = "\n".join(lines)
    touch_line = ("First touch of 500 MB of fresh memory (`kerchunkfs-bench-first-touch`): " +
                  ", ".join(f"{ms:.2f} ms/MB {mode}" for mode, ms in touch.items()) + ".")
    pass_line = (f"A first pass over the {max(sizes):,}-reference file (`kerchunkfs-bench-read-file`), where it is "
                 "mapped / through one reused 1 MiB buffer: " +
                 ", ".join(f"{statistics.median(r['mapped_seconds'] for r in runs):.3f} / "
                           f"{statistics.median(r['buffered_seconds'] for r in runs):.3f} s {mode}"
                           for mode, runs in passes.items()) + ".")
    print(table)
    print(touch_line)
    print(pass_line)
    (REPO / "bench" / "results").mkdir(exist_ok=True)
    (REPO / "bench" / "results" / "refstore_load.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with "
        f"`/usr/bin/python3 bench/run_refstore_load.py` (median of {args.runs} runs; the ratio divides by "
        f"fsspec's time for {anchor_n:,} references in the same memory state).\n\n{table}\n\n{touch_line}\n"
        f"{pass_line}\n")


if __name__ == "__main__":
    main()
