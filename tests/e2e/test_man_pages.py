"""Every man page renders without a groff warning and passes mandoc's linter (any level)."""

import shutil
import subprocess
from pathlib import Path

import pytest

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
