"""The module boundaries ARCHITECTURE.md states hold in the code: a module includes only the
public headers of another (the table in ARCHITECTURE.md), and only modules it depends on."""

import re
from pathlib import Path

import pytest

# Reads the sources, not a build: the sanitizer passes leave it out.
pytestmark = pytest.mark.release_only

REPO = Path(__file__).resolve().parents[2]
MODULES = ("common", "refstore", "fetch", "codec", "parquet", "daemon", "scanner")
# Who may use whom, as the dependency arrows in ARCHITECTURE.md and the meson.build files say.
DEPENDS = {"common": set(), "refstore": {"common"}, "fetch": {"common"}, "codec": {"common"}, "parquet": {"common"},
           "daemon": {"common", "refstore", "fetch", "codec", "parquet"},
           "scanner": {"common", "refstore", "fetch", "codec", "parquet"}}


def public_headers():
    table = {}
    for line in (REPO / "ARCHITECTURE.md").read_text().splitlines():
        match = re.match(r"^\| (\w+) \| (.*) \|$", line)
        if match and match.group(1) in MODULES:
            table[match.group(1)] = set(re.findall(r"[a-z_0-9]+\.h", match.group(2)))
    return table


def test_modules_include_only_the_public_headers_of_modules_they_depend_on():
    public = public_headers()
    assert set(public) == set(MODULES)
    for module, headers in public.items():
        for header in headers:
            assert (REPO / module / header).exists(), f"ARCHITECTURE.md names {module}/{header}, which does not exist"
    problems = []
    for module in MODULES:
        for source in sorted((REPO / module).glob("*.[ch]*")):
            for used, header in re.findall(r'^#include "(\w+)/([a-z_0-9]+\.h)"', source.read_text(), re.M):
                if used == module:
                    continue
                if used not in DEPENDS[module]:
                    problems.append(f"{source.relative_to(REPO)} uses {used}/, which {module}/ does not depend on")
                elif header not in public[used]:
                    problems.append(f"{source.relative_to(REPO)} includes {used}/{header}, not a public header")
    assert not problems, "\n".join(problems)


def test_only_the_fuse_adapter_talks_to_libfuse():
    """fuse_reply_* and the other libfuse request calls are made in daemon/fuse_adapter.cpp alone
    (main.cpp sets the session up); the file system logic stays testable without a kernel. (The
    benchmarks' null file system, bench/null_fuse.cpp, is a program of its own.)"""
    callers = set()
    for source in sorted(path for module in MODULES for path in (REPO / module).glob("*.[ch]*")):
        if re.search(r"\bfuse_(reply_\w+|add_direntry\w*|lowlevel_notify_\w+)\s*\(", source.read_text()):
            callers.add(str(source.relative_to(REPO)))
    assert callers == {"daemon/fuse_adapter.cpp"}
