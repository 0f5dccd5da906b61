"""The Parquet reader and writer for kerchunk's parquet reference layout, against independent
implementations: hyparquet (JavaScript) reads what we read and what we write; fastparquet (the
published fixture), hyparquet-writer and parquet-wasm (Arrow's Rust writer) write what we read."""

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import readers
from conftest import SCAN_BIN, kerchunkfs_binary, scan

def fixtures():
    """The shared fixtures beside the checkout (../shared/fixtures), or beside the repository a
    fresh clone was made from, or where KERCHUNKFS_FIXTURES says."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [os.environ.get("KERCHUNKFS_FIXTURES"), repo.parent / "shared" / "fixtures"]
    origin = subprocess.run(["git", "-C", str(repo), "remote", "get-url", "origin"], capture_output=True, text=True)
    if origin.returncode == 0 and Path(origin.stdout.strip()).is_dir():
        candidates.append(Path(origin.stdout.strip()).resolve().parent / "shared" / "fixtures")
    return next((Path(c) for c in candidates if c and (Path(c) / "realrefs").is_dir()), None)


FIXTURES = fixtures()
FIXTURE = FIXTURES / "realrefs" / "ProjectPythia__kerchunk-cookbook__combined.parq" if FIXTURES else None
needs_fixture = pytest.mark.skipif(FIXTURE is None, reason="the shared fixtures (../shared/fixtures) are not beside "
                                   "this checkout nor its origin; set KERCHUNKFS_FIXTURES")
PACKAGES = {"hyparquet": "1", "hyparquet-compressors": "1", "hyparquet-writer": "0.17", "parquet-wasm": "0.7",
            "apache-arrow": "21"}
# Our reader's view of a file, as a tool built with the tests (beside the scanner of the build tested).
DUMP = Path(SCAN_BIN).parents[1] / "tests" / "parquet-dump"


@pytest.fixture(scope="module")
def node_packages():
    reason = readers.npm_unavailable_reason(PACKAGES)
    if reason:
        pytest.skip(reason)


def ours(*files):
    out = subprocess.run([str(DUMP), *map(str, files)], capture_output=True, text=True, timeout=120)
    return [line if line.startswith("error: ") else json.loads(line) for line in out.stdout.splitlines()]


def hyparquet(*files, arrow=False):
    """The files' rows as hyparquet reads them, or (arrow) parquet-wasm, Arrow's Rust reader."""
    out = readers.run_node("parquet_dump.mjs", *(["--arrow"] if arrow else []), *files)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def rows_with_every_kind(n=23):
    """Inline, range, whole-file and missing rows (a missing one with null offset and size too)."""
    rows = []
    for i in range(n):
        if i % 5 == 0:
            rows.append({"path": None, "offset": 0, "size": 0, "raw": base64.b64encode(bytes([i % 256, 0, 255, 10])).decode()})
        elif i % 7 == 0:
            rows.append({"path": None, "offset": None, "size": None, "raw": None})
        elif i % 11 == 0:
            rows.append({"path": f"/data/whole{i}.nc", "offset": 0, "size": 0, "raw": None})
        else:
            rows.append({"path": f"s3://bucket/file{i % 3}.nc", "offset": 1000 * i + 2**40, "size": 100 + i, "raw": None})
    return rows


@needs_fixture
def test_our_reader_reads_the_fastparquet_fixture_as_hyparquet_does(node_packages):
    files = sorted(FIXTURE.glob("*/refs.*.parq"))
    assert len(files) == 11
    assert ours(*files) == hyparquet(*files)


# Every compression, dictionary and plain values, both page versions (not every combination: the
# suite's time is bounded).
@pytest.mark.parametrize("compression,values,pages", [
    ("UNCOMPRESSED", "dict", "V1"), ("SNAPPY", "plain", "V1"), ("GZIP", "dict", "V2"), ("ZSTD", "plain", "V1"),
    ("LZ4_RAW", "dict", "V2"), ("SNAPPY", "plain", "V2")])
def test_our_reader_reads_what_parquet_wasm_writes(node_packages, tmp_path, compression, values, pages):
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(rows_with_every_kind()))
    out = readers.run_node("parquet_write.mjs", rows_file, tmp_path / "refs.0.parq", "parquet-wasm", compression,
                           values, pages)
    assert out.returncode == 0, out.stderr
    got = ours(tmp_path / "refs.0.parq")[0]
    if values == "plain" and pages == "V2":
        # Arrow's V2 writer encodes unrepeated strings as DELTA_BYTE_ARRAY: refused by name.
        assert got == "error: column path: values in DELTA_BYTE_ARRAY are not read"
        return
    assert got == hyparquet(tmp_path / "refs.0.parq")[0]
    assert [row["raw"] for row in got] == [row["raw"] for row in rows_with_every_kind()]


def test_our_reader_reads_what_hyparquet_writer_writes(node_packages, tmp_path):
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(rows_with_every_kind(300)))
    out = readers.run_node("parquet_write.mjs", rows_file, tmp_path / "refs.0.parq", "hyparquet-writer")
    assert out.returncode == 0, out.stderr
    assert ours(tmp_path / "refs.0.parq") == hyparquet(tmp_path / "refs.0.parq")


def write_grouped_file(path):
    import h5py
    import numpy as np
    with h5py.File(path, "w") as f:
        f.create_dataset("a", data=np.arange(70, dtype="<i4").reshape(7, 10), chunks=(2, 10))  # 4 chunks
        group = f.create_group("inner/deeper")
        group.create_dataset("b", data=np.arange(30, dtype="<f8"), chunks=(5,))  # 6 chunks
        group.create_dataset("small", data=np.arange(3, dtype="<i2"))  # inlined
    return path


@pytest.mark.parametrize("record_size", [2, 3, 100000])
def test_the_scanner_writes_the_layout_that_hyparquet_and_arrow_read_as_our_json(node_packages, tmp_path, record_size):
    source = write_grouped_file(tmp_path / "grouped.h5")
    scan(source, "-o", tmp_path / "refs.json", "--inline-threshold", "50")
    scan(source, "-o", tmp_path / "refs.parq", "--inline-threshold", "50", "--record-size", record_size)
    expected = json.loads((tmp_path / "refs.json").read_text())["refs"]
    zmetadata = json.loads((tmp_path / "refs.parq" / ".zmetadata").read_text())
    assert zmetadata["record_size"] == record_size
    metadata_keys = {k for k in expected if k.rsplit("/", 1)[-1] in (".zgroup", ".zattrs", ".zarray")}
    assert set(zmetadata["metadata"]) == metadata_keys
    for key in metadata_keys:
        assert zmetadata["metadata"][key] == json.loads(expected[key]), key
    # Every chunk in the row its C-order index names; every other row missing.
    for name in ("a", "inner/deeper/b", "inner/deeper/small"):
        meta = zmetadata["metadata"][f"{name}/.zarray"]
        counts = [-(-s // c) for s, c in zip(meta["shape"], meta["chunks"])]
        total = 1
        for count in counts:
            total *= count
        files = sorted((tmp_path / "refs.parq" / name).glob("refs.*.parq"), key=lambda p: int(p.name.split(".")[1]))
        assert len(files) == max(1, -(-total // record_size))
        rows = [row for table in hyparquet(*files) for row in table]
        assert ours(*files) == hyparquet(*files) == hyparquet(*files, arrow=True)
        for index, row in enumerate(rows):
            key = [index]
            for count in reversed(counts[1:]):
                key.insert(1, key[0] % count)
                key[0] //= count
            chunk = f"{name}/{'.'.join(map(str, key))}" if index < total else None
            value = expected.get(chunk) if chunk else None
            if value is None:
                assert row["path"] is None and row["raw"] is None, (name, index)
            elif isinstance(value, list):
                assert [row["path"], row["offset"], row["size"], row["raw"]] == value + [None], (name, index)
            else:
                stored = base64.b64decode(value[7:]) if value.startswith("base64:") else value.encode()
                assert base64.b64decode(row["raw"]) == stored and row["path"] is None, (name, index)


@needs_fixture
def test_bad_parquet_files_get_one_clear_error(tmp_path):
    good = FIXTURE / "lat" / "refs.0.parq"
    data = good.read_bytes()
    cases = {
        "truncated": data[:-20],
        "magic": b"PAR2" + data[4:],
        "footer": data[:-8] + (len(data)).to_bytes(4, "little") + b"PAR1",
    }
    # A page that says it has more bytes than the file: the first page header's third field.
    header = bytearray(data)
    at = 4
    for _ in range(3):  # fields 1, 2, 3: short-form i32 field headers followed by a zigzag varint
        assert header[at] & 0x0F == 5
        at += 1
        start = at
        while header[at] & 0x80:
            at += 1
        at += 1
    header[start:at] = bytes([0xfe, 0xff, 0xff, 0xff, 0x07])  # the zigzag varint of 2**30 - 1
    cases["page"] = bytes(header)
    for name, content in cases.items():
        (tmp_path / f"{name}.parq").write_bytes(content)
    got = dict(zip(cases, ours(*(tmp_path / f"{name}.parq" for name in cases))))
    assert got["truncated"] == "error: not a Parquet file (no PAR1 at both ends)"
    assert got["magic"] == "error: not a Parquet file (no PAR1 at both ends)"
    assert got["footer"].startswith("error: the footer says it has") and "more than the file holds" in got["footer"]
    assert "says it has 1073741823 bytes, more than the file holds" in got["page"], got["page"]


def test_a_dictionary_index_out_of_range_is_an_error_naming_the_column(node_packages, tmp_path):
    """parquet-wasm's dictionary of paths made shorter than its indices reach."""
    import re
    (tmp_path / "rows.json").write_text(json.dumps(rows_with_every_kind(23)))
    out = readers.run_node("parquet_write.mjs", tmp_path / "rows.json", tmp_path / "dict.parq", "parquet-wasm",
                           "UNCOMPRESSED", "dict", "V1")
    assert out.returncode == 0, out.stderr
    data = bytearray((tmp_path / "dict.parq").read_bytes())
    assert ours(tmp_path / "dict.parq") == hyparquet(tmp_path / "dict.parq")
    # The first dictionary page is the path column's: a dictionary page header (field 7, a struct)
    # whose num_values, a zigzag varint, says 5 (file0..2 and two whole files) becomes 1.
    header = re.search(rb"\x4c\x15\x0a\x15", data)
    assert header, "a dictionary page of 5 values"
    data[header.start() + 2] = 0x02
    (tmp_path / "short.parq").write_bytes(data)
    assert ours(tmp_path / "short.parq") == ["error: column path: dictionary index 1 out of range (1 entries)"]


def tree(root):
    """{relative path: bytes} of every file under a mount."""
    return {str(p.relative_to(root)): p for p in sorted(Path(root).rglob("*")) if p.is_file()}


def assert_same_mount(parquet_mount, json_mount, read_data=True):
    """The same tree; metadata equal as JSON, every other file equal in size and (when the data
    can be read here) in bytes."""
    a, b = tree(parquet_mount.path()), tree(json_mount.path())
    assert sorted(a) == sorted(b)
    for name in a:
        if name.rsplit("/", 1)[-1] in (".zgroup", ".zattrs", ".zarray", ".zmetadata"):
            assert json.loads(a[name].read_text()) == json.loads(b[name].read_text()), name
            continue
        assert a[name].stat().st_size == b[name].stat().st_size, name
        if read_data:
            assert a[name].read_bytes() == b[name].read_bytes(), name


def json_with_every_kind(tmp_path):
    """Our scan of a file with nested groups, plus a whole-file reference and a chunk left out."""
    source = write_grouped_file(tmp_path / "grouped.h5")
    scan(source, "-o", tmp_path / "scanned.json", "--inline-threshold", "50")
    refs = json.loads((tmp_path / "scanned.json").read_text())
    (tmp_path / "whole.bin").write_bytes(bytes(range(256)) * 4)
    meta = json.loads(refs["refs"]["a/.zarray"])
    refs["refs"]["whole/.zarray"] = json.dumps({**meta, "shape": [1024], "chunks": [1024], "dtype": "|u1",
                                                "compressor": None, "filters": None, "fill_value": 0})
    refs["refs"]["whole/.zattrs"] = json.dumps({"_ARRAY_DIMENSIONS": ["byte"]})
    refs["refs"]["whole/0"] = [str(tmp_path / "whole.bin")]
    del refs["refs"]["inner/deeper/b/3"]
    (tmp_path / "every.json").write_text(json.dumps(refs))
    return tmp_path / "every.json"


# Record sizes that divide the chunk counts (a: 4 chunks, inner/deeper/b: 6) and that do not.
@pytest.mark.parametrize("writer,record_size", [
    ("hyparquet-writer", 2), ("hyparquet-writer", 4), ("parquet-wasm ZSTD dict V1", 4),
    ("parquet-wasm SNAPPY dict V2", 2), ("parquet-wasm GZIP plain V1", 3)])
def test_sets_written_by_independent_writers_mount_as_their_json(node_packages, tmp_path, mounts, writer, record_size):
    refs = json_with_every_kind(tmp_path)
    out = readers.run_node("parquet_layout.mjs", "from-json", refs, tmp_path / "set.parq", record_size,
                           *writer.split())
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "set.parq" / "inner" / "deeper" / "b").glob("refs.*.parq"))) == -(-6 // record_size)
    allow = f"allow_local={tmp_path}"
    parquet_mount, json_mount = mounts(tmp_path / "set.parq", "-o", allow), mounts(refs, "-o", allow)
    assert_same_mount(parquet_mount, json_mount)
    assert not parquet_mount.path("inner/deeper/b/3").exists()  # its row is empty: never written
    import h5py
    import numpy as np
    import zarr
    with h5py.File(tmp_path / "grouped.h5") as f:
        np.testing.assert_array_equal(zarr.open_array(str(parquet_mount.path("a")), mode="r")[...], f["a"][...])


def test_the_scanners_parquet_output_mounts_as_its_json(tmp_path, mounts):
    source = write_grouped_file(tmp_path / "grouped.h5")
    scan(source, "-o", tmp_path / "refs.json", "--inline-threshold", "50")
    scan(source, "-o", tmp_path / "refs.parq", "--inline-threshold", "50", "--record-size", "4")
    allow = f"allow_local={tmp_path}"
    assert_same_mount(mounts(tmp_path / "refs.parq", "-o", allow), mounts(tmp_path / "refs.json", "-o", allow))


@needs_fixture
def test_the_fastparquet_fixture_mounts_as_hyparquet_converts_it(node_packages, tmp_path, mounts):
    out = readers.run_node("parquet_layout.mjs", "to-json", FIXTURE, tmp_path / "chunks.json")
    assert out.returncode == 0, out.stderr
    refs = json.loads((tmp_path / "chunks.json").read_text())
    metadata = json.loads((FIXTURE / ".zmetadata").read_text())["metadata"]
    refs.update({key: json.dumps(value) for key, value in metadata.items()})
    (tmp_path / "converted.json").write_text(json.dumps({"version": 1, "refs": refs}))
    # Its targets are on S3: the tree, the sizes and the inline bytes are what can be compared here.
    assert_same_mount(mounts(FIXTURE), mounts(tmp_path / "converted.json"), read_data=False)
    m = mounts(FIXTURE)
    inline = [p for name, p in tree(m.path()).items() if p.stat().st_size < 100 and "/." not in "/" + name]
    assert inline, "the fixture has inline chunks"


def test_bad_parquet_sets_are_refused_or_eio_for_that_chunk(tmp_path, mounts):
    source = write_grouped_file(tmp_path / "grouped.h5")
    scan(source, "-o", tmp_path / "refs.parq", "--inline-threshold", "50", "--record-size", "2")
    zmetadata = json.loads((tmp_path / "refs.parq" / ".zmetadata").read_text())
    # Without record_size it is not the layout: refused at mount, naming the file.
    broken = tmp_path / "norecord.parq"
    shutil.copytree(tmp_path / "refs.parq", broken)
    (broken / ".zmetadata").write_text(json.dumps({"metadata": zmetadata["metadata"]}))
    (tmp_path / "mnt").mkdir()
    out = subprocess.run([kerchunkfs_binary(), str(broken), str(tmp_path / "mnt"), "-f"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 1
    assert out.stderr.strip() == f"kerchunkfs: {broken}/.zmetadata: no positive record_size: not a parquet reference set"
    # A refs file that is not Parquet: EIO for the chunks it holds, a log line, the rest served.
    (tmp_path / "refs.parq" / "a" / "refs.1.parq").write_bytes(b"not parquet at all")
    m = mounts(tmp_path / "refs.parq", "-o", f"allow_local={tmp_path}")
    assert sorted(p.name for p in m.path("a").iterdir()) == [".zarray", ".zattrs", "0.0", "1.0", "2.0", "3.0"]
    with pytest.raises(OSError) as failure:
        m.path("a/2.0").read_bytes()
    assert failure.value.errno == 5
    assert "a/2.0: " in m.log() and "refs.1.parq: not a Parquet file" in m.log()
    assert len(m.path("a/0.0").read_bytes()) > 0


def test_a_refs_file_without_a_column_or_of_the_wrong_types_is_eio_for_its_chunks(node_packages, tmp_path, mounts):
    source = write_grouped_file(tmp_path / "grouped.h5")
    scan(source, "-o", tmp_path / "refs.parq", "--record-size", "2")
    rows = [{"path": str(source), "offset": 0, "size": 8, "raw": None}] * 2
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    broken = {"a/refs.1.parq": ("--without", "offset"), "inner/deeper/b/refs.1.parq": ("--as-text", "size")}
    for name, change in broken.items():
        out = readers.run_node("parquet_write.mjs", tmp_path / "rows.json", tmp_path / "refs.parq" / name,
                               "hyparquet-writer", *change)
        assert out.returncode == 0, out.stderr
    m = mounts(tmp_path / "refs.parq", "-o", f"allow_local={tmp_path}")
    for name in ("a/2.0", "inner/deeper/b/3"):
        with pytest.raises(OSError) as failure:
            m.path(name).read_bytes()
        assert failure.value.errno == 5
    base = str(tmp_path / "refs.parq")
    assert f"a/2.0: {base}/a/refs.1.parq: no path, offset and size columns" in m.log()
    assert f"inner/deeper/b/3: {base}/inner/deeper/b/refs.1.parq: column size holds bytes, not integers" in m.log()
    import h5py
    with h5py.File(source) as f:  # the chunks the intact files hold are served
        assert m.path("a/0.0").read_bytes() == f["a"][0:2].tobytes()
        assert m.path("inner/deeper/b/5").read_bytes() == f["inner/deeper/b"][25:30].tobytes()


def test_a_parquet_set_reloads_when_its_zmetadata_changes(tmp_path, mounts):
    import time

    import h5py
    import numpy as np
    import zarr
    first, second = tmp_path / "first.h5", tmp_path / "second.h5"
    for path, n, base in ((first, 20, 0), (second, 30, 100)):
        with h5py.File(path, "w") as f:
            f.create_dataset("a", data=np.arange(base, base + n, dtype="<i4"), chunks=(10,))
    scan(first, "-o", tmp_path / "set.parq", "--record-size", "2")
    m = mounts(tmp_path / "set.parq", "-o", "watch", "-o", f"allow_local={tmp_path}")
    assert json.loads(m.path("a/.zarray").read_text())["shape"] == [20]
    assert m.path("a/0").read_bytes() == np.arange(10, dtype="<i4").tobytes()  # refs.0.parq is read and kept
    time.sleep(1.1)  # a modification time the watcher can tell apart
    scan(second, "-o", tmp_path / "set.parq", "--record-size", "2")
    deadline = time.time() + 10
    while json.loads(m.path("a/.zarray").read_text())["shape"] != [30] and time.time() < deadline:
        time.sleep(0.2)
    assert json.loads(m.path("a/.zarray").read_text())["shape"] == [30]
    assert m.path("a/2").read_bytes() == np.arange(120, 130, dtype="<i4").tobytes()
    # A file written anew (refs.0.parq) is read anew, not taken from the decoded files kept.
    assert zarr.open_array(str(m.path("a")), mode="r")[...].tolist() == list(range(100, 130))
    assert "reloaded" in m.log()


def test_decode_shows_a_parquet_set_as_it_shows_its_json(tmp_path, mounts):
    """-o decode over a parquet set: the raw view of the same scan's JSON, values as h5py reads
    them, the chunks after the one read decoded ahead from their rows."""
    import h5py
    import numpy as np
    import zarr
    source = tmp_path / "packed.h5"
    with h5py.File(source, "w") as f:
        f.create_dataset("z", data=np.arange(4000, dtype=">i4").reshape(40, 100), chunks=(4, 100),
                         compression="gzip", shuffle=True)
        f.create_dataset("inner/f", data=np.linspace(0, 1, 300), chunks=(30,), compression="gzip")
    scan(source, "-o", tmp_path / "refs.json")
    scan(source, "-o", tmp_path / "refs.parq", "--record-size", "3")
    allow = f"allow_local={tmp_path}"
    decoded = mounts(tmp_path / "refs.parq", "-o", "decode", "-o", allow)
    assert_same_mount(decoded, mounts(tmp_path / "refs.json", "-o", "decode", "-o", allow))
    meta = json.loads(decoded.path("z/.zarray").read_text())
    assert (meta["compressor"], meta["filters"], meta["dtype"]) == (None, None, "<i4")
    again = mounts(tmp_path / "refs.parq", "-o", "decode", "-o", allow)
    with h5py.File(source) as f:
        for name in ("z", "inner/f"):
            np.testing.assert_array_equal(zarr.open_array(str(again.path(name)), mode="r")[...], f[name][...])
    stats = again.path(".kerchunkfs/stats").read_text()
    decoded_chunks = int(next(line.split()[-1] for line in stats.splitlines()
                              if line.startswith("kerchunkfs_decoded_chunks_total")))
    assert decoded_chunks == 10 + 10  # each chunk decoded once, whether read or decoded ahead


def test_an_assembled_array_in_a_parquet_set_is_refused_by_readers_not_misread(tmp_path, mounts):
    import numcodecs
    import zarr
    from test_combine import write_day_file
    paths = [tmp_path / "day00.nc", tmp_path / "day01.nc"]
    write_day_file(paths[0], 0, 2)
    write_day_file(paths[1], 2, 2, chunk=1)
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "combined.parq")
    m = mounts(tmp_path / "combined.parq", "-o", "decode", "-o", f"allow_local={tmp_path}")
    assert json.loads(m.path("precip/.zarray").read_text())["compressor"]["id"] == "kerchunkfs.assembled"
    with pytest.raises(ValueError, match="codec not available"):
        zarr.open_array(str(m.path("precip")), mode="r")[...]
    assert numcodecs.registry.codec_registry.get("kerchunkfs.assembled") is None
    assert "precip: an assembled array in a parquet reference set is not assembled" in m.log()


def test_combine_writes_the_parquet_layout_too(tmp_path, mounts):
    from test_combine import make_days

    paths = make_days(tmp_path)
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "all.json")
    scan("--concat-dim", "time", *paths, "-o", tmp_path / "all.parq", "--record-size", "3")
    allow = f"allow_local={tmp_path}"
    assert_same_mount(mounts(tmp_path / "all.parq", "-o", allow), mounts(tmp_path / "all.json", "-o", allow))


def test_refs_files_a_writer_left_out_are_missing_chunks_for_every_reader(tmp_path, mounts):
    """kerchunk's parquet writers (fsspec's LazyReferenceMapper, as padocc uses it) write no
    refs.K.parq for records that hold no chunk: an all-fill array has no refs file at all, and an
    array whose last chunks were never written lacks its last ones. Those chunks are missing (the
    reader's fill value): not listed, ENOENT, never EIO. The truth is h5py's reading of the file,
    whose unwritten chunks are its fill value too."""
    import h5py
    import numpy as np
    import zarr
    source = tmp_path / "fill.h5"
    with h5py.File(source, "w") as f:
        f.create_dataset("allfill", shape=(6, 10), dtype="<i4", chunks=(2, 10), fillvalue=-7)
        part = f.create_dataset("part", shape=(8, 10), dtype="<f8", chunks=(2, 10), fillvalue=2.5)
        part[:4] = np.arange(40).reshape(4, 10)  # chunks 0 and 1; 2 and 3 never written
        f.create_dataset("full", data=np.arange(12, dtype="<i2").reshape(6, 2), chunks=(2, 2))
    scan(source, "-o", tmp_path / "refs.parq", "--record-size", "2")
    shutil.rmtree(tmp_path / "refs.parq" / "allfill")  # the writer made no folder for it
    (tmp_path / "refs.parq" / "allfill").mkdir()  # (nor would an empty one change anything)
    (tmp_path / "refs.parq" / "part" / "refs.1.parq").unlink()  # the record of chunks 2 and 3
    m = mounts(tmp_path / "refs.parq", "-o", f"allow_local={tmp_path}")
    assert sorted(p.name for p in m.path("allfill").iterdir()) == [".zarray", ".zattrs"]
    assert sorted(p.name for p in m.path("part").iterdir()) == [".zarray", ".zattrs", "0.0", "1.0"]
    for name in ("allfill/0.0", "part/2.0", "part/3.0"):
        with pytest.raises(FileNotFoundError):
            m.path(name).stat()
    with h5py.File(source) as f:
        truth = {name: f[name][...] for name in ("allfill", "part", "full")}
    for name, expected in truth.items():
        np.testing.assert_array_equal(zarr.open_array(str(m.path(name)), mode="r")[...], expected, err_msg=name)
    values, errors = readers.read_gdal(m.path(), list(truth))
    assert not errors, errors
    for name, expected in truth.items():
        np.testing.assert_array_equal(values[name], expected, err_msg=f"GDAL {name}")
    reason = readers.zarrita_unavailable_reason()
    if reason:
        pytest.skip(f"zarrita.js: {reason} (zarr-python and GDAL were checked)")
    values, errors = readers.read_zarrita(m.path(), list(truth))
    assert not errors, errors
    for name, expected in truth.items():
        np.testing.assert_array_equal(values[name], expected, err_msg=f"zarrita.js {name}")
    assert "EIO" not in m.log() and "cannot read" not in m.log()
