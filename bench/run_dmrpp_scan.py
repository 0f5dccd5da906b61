"""DMR++ scan benchmark: references per second from sidecars, and requests per remote sidecar
behind 20 ms per request; Python's xml.etree parsing the same sidecars (the least a Python reader
of DMR++ spends) as the anchor, in the same run.

Usage: /usr/bin/python3 bench/run_dmrpp_scan.py [--latency 0.02] [--runs 3]
Run from the repository root after scripts/build. Inputs: the 42 OPeNDAP sidecars in
../shared/fixtures/dmrpp, and a sidecar written here for a variable of 100,000 chunks.
Prints a Markdown table and writes bench/results/dmrpp_scan.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import Nginx  # noqa: E402

FIXTURES = (REPO.parent / "shared" / "fixtures" / "dmrpp").resolve()
SCAN = REPO / "build" / "scanner" / "kerchunkfs-scan"


def large_sidecar(path, chunks=100_000):
    """One Float32 variable of 100,000 deflated chunks of 1,000 values, as build_dmrpp writes it."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<Dataset xmlns="http://xml.opendap.org/ns/DAP/4.0#" '
             'xmlns:dmrpp="http://xml.opendap.org/dap/dmrpp/1.0.0#" dapVersion="4.0" dmrVersion="1.0" '
             'name="large.h5" dmrpp:href="https://data.example/large.h5">',
             f'  <Dimension name="time" size="{chunks * 1000}"/>',
             '  <Float32 name="v">', '    <Dim name="/time"/>',
             '    <dmrpp:chunks compressionType="shuffle deflate" deflateLevel="4" fillValue="0" byteOrder="LE">',
             '      <dmrpp:chunkDimensionSizes>1000</dmrpp:chunkDimensionSizes>']
    offset = 4096
    for i in range(chunks):
        size = 2500 + (i * 37) % 900
        lines.append(f'      <dmrpp:chunk offset="{offset}" nBytes="{size}" chunkPositionInArray="[{i * 1000}]"/>')
        offset += size
    lines += ['    </dmrpp:chunks>', '  </Float32>', '</Dataset>']
    path.write_text("\n".join(lines) + "\n")


def timed(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def references_in(folder):
    total = 0
    for out in Path(folder).glob("*.json"):
        total += sum(1 for v in json.loads(out.read_text())["refs"].values() if isinstance(v, list))
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sidecars = sorted(FIXTURES.glob("*.dmrpp"))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        large = work / "large.h5.dmrpp"
        large_sidecar(large)
        for label, inputs in ((f"{len(sidecars)} OPeNDAP sidecars, one run", sidecars),
                              (f"one sidecar of 100,000 chunks ({large.stat().st_size / 1e6:.1f} MB)", [large])):
            out = work / f"out{len(rows)}"

            def ours():
                subprocess.run([str(SCAN), *map(str, inputs), "--out-dir", str(out), "-q", "--skip-unsupported"],
                               check=True)

            seconds = timed(ours, args.runs)
            references = references_in(out)
            anchor = timed(lambda: [ElementTree.parse(str(p)) for p in inputs], args.runs)
            rows.append((label, references, seconds, anchor, None))
        (work / "nginx").mkdir()
        (work / "www").mkdir()
        nginx = Nginx(work / "www", work / "nginx", latency_s=args.latency)
        try:
            served = nginx.root / "grid_1_2d.h5.dmrpp"
            served.write_bytes((FIXTURES / "grid_1_2d.h5.dmrpp").read_bytes())
            log = nginx.access_log
            before = sum(1 for _ in open(log)) if log.exists() else 0
            start = time.perf_counter()
            subprocess.run([str(SCAN), nginx.url(served.name), "-o", str(work / "remote.json"), "-q", "--skip-unsupported"],
                           check=True)
            seconds = time.perf_counter() - start
            time.sleep(0.05)
            requests = sum(1 for _ in open(log)) - before
            references = sum(1 for v in json.loads((work / "remote.json").read_text())["refs"].values()
                             if isinstance(v, list))
            rows.append((f"grid_1_2d.h5.dmrpp over HTTP (+{args.latency * 1000:.0f} ms a request)", references,
                         seconds, None, requests))
        finally:
            nginx.stop()
    lines = ["| input | references | kerchunkfs-scan seconds | references per second | xml.etree parse, seconds "
             "| requests |", "|---|---|---|---|---|---|"]
    for label, references, seconds, anchor, requests in rows:
        lines.append(f"| {label} | {references} | {seconds:.3f} | {references / seconds:,.0f} | "
                     f"{'' if anchor is None else f'{anchor:.3f}'} | {'' if requests is None else requests} |")
    table = "\n".join(lines)
    print(table)
    (REPO / "bench" / "results" / "dmrpp_scan.md").write_text(
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores with "
        f"`/usr/bin/python3 bench/run_dmrpp_scan.py` (medians of {args.runs} runs; the scan time includes starting "
        "the process and writing the JSON; the anchor only parses the XML).\n\n" + table + "\n")


if __name__ == "__main__":
    main()
