"""The README and docs/ hold together: every relative link resolves (to a file, and to a heading
where it names one), every `-o` option they name is one kerchunkfs or libfuse takes, and the
README stays a page a newcomer reads in five minutes."""

import re
import subprocess
from pathlib import Path

import pytest

from conftest import kerchunkfs_binary

# Reads documents; the sanitizer passes leave it out.
pytestmark = pytest.mark.release_only

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", REPO / "ARCHITECTURE.md", REPO / "CONTRIBUTING.md",
             *sorted((REPO / "docs").glob("*.md"))]
# libfuse's own -o options the documents may name (mount.fuse3(8)).
FUSE_OPTIONS = {"allow_other", "allow_root", "default_permissions", "max_threads", "max_idle_threads", "auto_unmount",
                "ro", "_netdev", "nofail", "clone_fd", "max_read"}


def anchor(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def outside_code(text):
    return re.sub(r"```.*?```", "", text, flags=re.S)


def test_every_relative_link_resolves():
    broken = []
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", outside_code(document.read_text())):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            resolved = (document.parent / path).resolve() if path else document
            if not resolved.exists():
                broken.append(f"{document.relative_to(REPO)}: {target}")
            elif fragment and resolved.suffix == ".md":
                headings = {anchor(h) for h in re.findall(r"^#+ (.*)$", resolved.read_text(), re.M)}
                if fragment not in headings:
                    broken.append(f"{document.relative_to(REPO)}: {target} (no such heading)")
    assert broken == []


def test_every_option_the_documents_name_exists():
    out = subprocess.run([kerchunkfs_binary(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    own = out.stdout.split("kerchunkfs options:")[1].split("\n\n")[0]
    known = set(re.findall(r"^\s+-o ([a-z0-9_]+)", own, re.M)) | FUSE_OPTIONS
    assert len(known) > 30
    unknown = []
    for document in DOCUMENTS:
        # The scanner's -o is its output file; "-o option" the usage line's placeholder.
        lines = [line for line in document.read_text().splitlines() if "kerchunkfs-scan" not in line]
        for name in re.findall(r"(?<![\w-])-o ([a-z_][a-z0-9_]*)", "\n".join(lines)):
            if name not in known | {"option"}:
                unknown.append(f"{document.relative_to(REPO)}: -o {name}")
    assert unknown == []


def test_the_readme_is_short_and_links_every_docs_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", readme))
    assert linked == {page.name for page in (REPO / "docs").glob("*.md")}
