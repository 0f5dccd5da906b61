"""Sums the JUnit XML of every test runner into one line: tests: N passed, M failed[, K skipped].

Usage: summarize.py RESULTS_DIR NAME=EXIT_STATUS...
A runner that exited non-zero without reporting a failure (a crash, a sanitizer report at exit)
counts as one failed test, and so does a runner whose XML is missing or cut short.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count(xml_path):
    passed = failed = skipped = 0
    failures = []
    try:
        cases = list(ET.parse(xml_path).getroot().iter("testcase"))
    except ET.ParseError:  # a runner that crashed while writing its report
        return 0, 1, 0, [f"{xml_path.name} is not a whole report (the runner ended while writing it)"]
    for case in cases:
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


def main():
    results = Path(sys.argv[1])
    total_passed = total_failed = total_skipped = 0
    for status in sys.argv[2:]:
        name, exit_status = status.rsplit("=", 1)
        xml_path = results / f"{name}.xml"
        if xml_path.exists():
            passed, failed, skipped, failures = count(xml_path)
        else:
            passed, failed, skipped, failures = 0, 0, 0, []
        if exit_status != "0" and failed == 0:
            failed = 1
            failures.append(f"{name} exited with status {exit_status}")
        print(f"{name}: {passed} passed, {failed} failed, {skipped} skipped")
        for failure in failures:
            print(f"  FAILED {failure}")
        total_passed += passed
        total_failed += failed
        total_skipped += skipped
    line = f"tests: {total_passed} passed, {total_failed} failed"
    if total_skipped:
        line += f", {total_skipped} skipped"
    print(line)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
