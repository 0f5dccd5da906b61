"""Every man page renders without a groff warning and passes mandoc's linter (any level)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SCAN_BIN, kerchunkfs_binary

# The pages and the package are the release build's; the sanitizer passes leave them out.
pytestmark = pytest.mark.release_only

PAGES = sorted((Path(__file__).resolve().parents[2] / "man").glob("*.[1-8]"))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_man_page_renders_cleanly(page):
    out = subprocess.run(["groff", "-ww", "-man", "-z", str(page)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == "", out.stderr


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_man_page_passes_mandoc_lint(page):
    if shutil.which("mandoc") is None:
        pytest.skip("mandoc is not installed (Debian package mandoc)")
    out = subprocess.run(["mandoc", "-Tlint", str(page)], capture_output=True, text=True)
    assert out.stdout + out.stderr == "", out.stdout + out.stderr


def options_in_man_page():
    """The -o options kerchunkfs(1) describes in its own sections (before libfuse's)."""
    text = (Path(__file__).resolve().parents[2] / "man" / "kerchunkfs.1").read_text()
    own = text.split(".SS FUSE options")[0]
    return set(re.findall(r'^\.BI? "?\\-o ([a-z0-9_]+)', own, re.M))


def options_in_help():
    """The -o options `kerchunkfs --help` lists as its own: the option table, as users see it."""
    out = subprocess.run([kerchunkfs_binary(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    own = out.stdout.split("kerchunkfs options:")[1].split("\n\n")[0]
    return set(re.findall(r"^\s+-o ([a-z0-9_]+)", own, re.M))


def test_the_man_page_describes_every_option_and_no_other():
    in_help, in_man = options_in_help(), options_in_man_page()
    assert len(in_help) > 20
    assert in_help - in_man == set(), "options the man page lacks"
    assert in_man - in_help == set(), "options the man page names that do not exist"


def options_in_scanner_man_page():
    """The options kerchunkfs-scan(1) describes in its OPTIONS section: each .TP's first word."""
    text = (Path(__file__).resolve().parents[2] / "man" / "kerchunkfs-scan.1").read_text()
    section = text.split(".SH OPTIONS")[1].split("\n.SH ")[0]
    names = set()
    for entry in re.findall(r"^\.TP\n(.*)$", section, re.M):
        names.update(re.findall(r"(?<![\w-])((?:\\-){1,2}[a-z0-9](?:[a-z0-9]|\\-)*)", entry.split('" ')[0]))
    return {name.replace("\\-", "-") for name in names}


def options_in_scanner_help():
    """The options `kerchunkfs-scan --help` lists: its option table and the shared remote options."""
    out = subprocess.run([SCAN_BIN, "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    names = set()
    for line in out.stdout.splitlines():
        match = re.match(r"^  (-[\w-]+(?:, --[\w-]+)?)", line)
        if match:
            names.update(name.strip() for name in match.group(1).split(","))
    return names


def test_the_scanner_man_page_describes_every_option_and_no_other():
    in_help, in_man = options_in_scanner_help(), options_in_scanner_man_page()
    assert len(in_help) > 30
    assert in_help - in_man == set(), "options the scanner's man page lacks"
    assert in_man - in_help == set(), "options the scanner's man page names that do not exist"
