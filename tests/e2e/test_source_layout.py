"""The module boundaries ARCHITECTURE.md states hold in the code: a module includes only the
public headers of another (the table in ARCHITECTURE.md), and only modules it depends on; each
source format lives in its own folder of sources/, reached only through the table of formats; the
daemon's file system names no set format."""

import re
from pathlib import Path

import pytest

# Reads the sources, not a build: the sanitizer passes leave it out.
pytestmark = pytest.mark.release_only

REPO = Path(__file__).resolve().parents[2]
MODULES = ("common", "refstore", "fetch", "codec", "parquet", "daemon", "sources", "scanner")
# Who may use whom, as the dependency arrows in ARCHITECTURE.md and the meson.build files say.
DEPENDS = {"common": set(), "refstore": {"common"}, "fetch": {"common"}, "codec": {"common"}, "parquet": {"common"},
           "daemon": {"common", "refstore", "fetch", "codec", "parquet"},
           "sources": {"common", "refstore", "fetch"},
           "scanner": {"common", "refstore", "fetch", "codec", "parquet", "sources"}}
# Each source format's folder, and the one file outside it that names the format: the table.
FORMATS_TABLE = "sources/formats.cpp"


def module_files(module):
    return sorted(path for path in (REPO / module).rglob("*.[ch]*") if path.is_file())


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
        for source in module_files(module):
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
    for source in sorted(path for module in MODULES for path in module_files(module)):
        if re.search(r"\bfuse_(reply_\w+|add_direntry\w*|lowlevel_notify_\w+)\s*\(", source.read_text()):
            callers.add(str(source.relative_to(REPO)))
    assert callers == {"daemon/fuse_adapter.cpp"}


def test_each_source_format_lives_in_its_folder_reached_only_through_the_table():
    """A format's headers are included from its own folder, the table and the tests alone: adding a
    format is a folder, a table line and its tests."""
    formats = sorted(p.name for p in (REPO / "sources").iterdir() if p.is_dir())
    assert {"hdf5", "netcdf3", "dmrpp"} <= set(formats)
    problems = []
    for path in sorted(p for module in MODULES for p in module_files(module)):
        relative = str(path.relative_to(REPO))
        for fmt in re.findall(r'^#include "sources/(\w+)/[\w.]+"', path.read_text(), re.M):
            if not relative.startswith(f"sources/{fmt}/") and relative != FORMATS_TABLE:
                problems.append(f"{relative} includes a header of sources/{fmt}/")
    assert not problems, "\n".join(problems)
    table = (REPO / FORMATS_TABLE).read_text()
    for fmt in formats:
        assert f'"sources/{fmt}/' in table, f"sources/{fmt}/ has no line in the table"


def test_the_file_system_names_no_set_format():
    """The daemon's Filesystem sees reference sets through daemon/reference_set.h alone."""
    for name in ("filesystem.h", "filesystem.cpp"):
        text = (REPO / "daemon" / name).read_text().lower()
        for word in ("parquet", "icechunk", "json"):
            assert word not in text, f"daemon/{name} names {word}"
