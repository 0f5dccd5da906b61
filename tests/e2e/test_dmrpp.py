"""DMR++ sidecars scanned into references without reading their granules: OPeNDAP's build_dmrpp
sidecars with the HDF5/netCDF4 files they describe (../shared/fixtures/dmrpp), each variable read
through the mount and compared with h5py reading the granule, and with the HDF5 scanner's
references of the same file; malformed and foreign XML; a remote sidecar in one request."""

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

from conftest import scan
from test_parquet import FIXTURES as SHARED

# Beside the checkout, beside the repository a fresh clone was made from, or KERCHUNKFS_FIXTURES.
FIXTURES = (SHARED / "dmrpp").resolve() if SHARED is not None else None
SIDECARS = sorted(FIXTURES.glob("*.dmrpp")) if FIXTURES is not None and FIXTURES.exists() else []

# Sidecars that describe another version of their granule (build_dmrpp ran on a different write of
# the file): their ranges differ from the granule's own, which the HDF5 scanner reads and h5py
# confirms. The values decide, and these are the arrays they decide against the sidecar.
STALE = {("FletcherShuffle.nc4", "X"), ("FletcherShuffle.nc4", "fvcom_mesh"), ("FletcherShuffle.nc4", "varByte"),
         ("FletcherShuffle.nc4", "varDouble"), ("FletcherShuffle.nc4", "varFloat"), ("FletcherShuffle.nc4", "varInt"),
         ("FletcherShuffle.nc4", "varLong"), ("FletcherShuffle.nc4", "varShort"), ("FletcherShuffle.nc4", "Y")}
# Arrays never written (no chunk: every value the fill value, so the values agree) whose type the
# sidecar gives otherwise than the granule has it: another width, or no byte order (a sidecar names
# the byte order only where there are chunks; little-endian is taken then).
RETYPED = {("ntypes.h5", "atomic_type_3"), ("ntypes.h5", "atomic_type_4"), ("ntypes.h5", "atomic_type_5")}
REFUSAL_REASONS = ("String variables need the granule itself", "its members have gaps",
                   "the sidecar does not say the byte order",
                   "the sidecar gives no member offsets", "its string members are stored")

needs_fixtures = pytest.mark.skipif(not SIDECARS, reason="the shared DMR++ fixtures (../shared/fixtures/dmrpp) are "
                                    "not beside this checkout nor its origin; set KERCHUNKFS_FIXTURES")


def references(path):
    return json.loads(Path(path).read_text())["refs"]


def same_values(got, expected):
    """Equal values; variable-length strings (h5py's objects) compared as the fixed-length bytes
    zarr holds them in, compounds member by member."""
    if got.shape != expected.shape:
        return False
    if expected.dtype.names:
        return got.dtype.names == expected.dtype.names and all(same_values(got[name], expected[name])
                                                               for name in expected.dtype.names)
    if expected.dtype.kind == "O":
        try:
            expected = expected.astype(got.dtype)
        except (TypeError, ValueError):
            return False
    return np.array_equal(got, expected, equal_nan=expected.dtype.kind == "f")


def codec_ids(meta):
    return ((meta["compressor"] or {}).get("id"), [f["id"] for f in meta["filters"] or []])


@needs_fixtures
def test_every_sidecar_reads_as_h5py_reads_its_granule(tmp_path, mounts):
    checked, stale, retyped, refused = 0, set(), set(), 0
    for sidecar in SIDECARS:
        name = sidecar.name[:-len(".dmrpp")]
        out = scan(sidecar, "-o", tmp_path / f"{name}.json", "--inline-threshold", "0", "--skip-unsupported")
        for line in out.stderr.splitlines():
            if "not referenced" in line:
                assert str(sidecar) in line and any(reason in line for reason in REFUSAL_REASONS), line
                refused += 1
        scan(sidecar.with_suffix(""), "-o", tmp_path / f"{name}.h5.json", "--inline-threshold", "0",
             "--skip-unsupported")
        ours, theirs = references(tmp_path / f"{name}.json"), references(tmp_path / f"{name}.h5.json")
        from_sidecar = mounts(tmp_path / f"{name}.json", "-o", f"allow_local={FIXTURES}")
        from_granule = mounts(tmp_path / f"{name}.h5.json", "-o", f"allow_local={FIXTURES}")
        # fletcher32 before other filters: numcodecs 0.11 has no codec for it; the mount decodes it.
        checksummed = {key[:-len("/.zarray")] for key, value in ours.items() if key.endswith("/.zarray") and
                       "fletcher32" in codec_ids(json.loads(value))[1]}
        decoded = mounts(tmp_path / f"{name}.json", "-o", "decode", "-o", f"allow_local={FIXTURES}") \
            if checksummed else None
        arrays = [key[:-len("/.zarray")] for key in ours if key.endswith("/.zarray")]
        with h5py.File(sidecar.with_suffix("")) as granule:
            for array in arrays:
                # netCDF-4 stores a variable named as a dimension it does not index under another
                # HDF5 name; the sidecar and the HDF5 scanner name the variable, as netCDF does.
                parent, _, leaf = array.rpartition("/")
                stored = f"{parent}/_nc4_non_coord_{leaf}" if parent else f"_nc4_non_coord_{leaf}"
                stored = stored if stored in granule else array
                if stored not in granule:
                    continue  # in another file the sidecar names (a store of missing variables)
                expected = granule[stored][...]
                try:
                    mount = decoded if array in checksummed else from_sidecar
                    got = zarr.open_array(str(mount.path(array)), mode="r")[...]
                except Exception:  # noqa: BLE001 -- bytes that are not what the sidecar says decode to nothing
                    got = np.array([])
                ranges = {k: v[1:] for k, v in ours.items() if k.startswith(array + "/") and isinstance(v, list)}
                granule_ranges = {k: v[1:] for k, v in theirs.items()
                                  if k.startswith(array + "/") and isinstance(v, list)}
                if same_values(got, expected):
                    checked += 1
                    if got.dtype != expected.dtype and not expected.dtype.hasobject:
                        retyped.add((name, array))
                    carried = not ranges and granule_ranges  # the sidecar's own copy of the records
                    if (granule_ranges or f"{array}/.zarray" in theirs and not ranges) and not carried and \
                            not expected.dtype.hasobject:
                        # The same array both ways: the same chunks at the same ranges, the same codecs
                        # (variable-length strings aside: the sidecar holds them as fixed-length bytes).
                        assert ranges == granule_ranges, (name, array)
                        assert codec_ids(json.loads(ours[f"{array}/.zarray"])) == \
                            codec_ids(json.loads(theirs[f"{array}/.zarray"])), (name, array)
                    continue
                # They disagree: the granule's own references must read what h5py reads.
                assert ranges != granule_ranges, (name, array)
                np.testing.assert_array_equal(zarr.open_array(str(from_granule.path(array)), mode="r")[...],
                                              expected, err_msg=f"{name} {array}")
                stale.add((name, array))
        from_sidecar.unmount()
        from_granule.unmount()
        if decoded is not None:
            decoded.unmount()
    assert stale <= STALE, stale - STALE
    assert retyped <= RETYPED, retyped - RETYPED
    print(f"{checked} arrays equal, {refused} refused")
    assert checked >= 37 and refused <= 27, (checked, refused)  # as of the fixtures of 2026-12


@needs_fixtures
def test_a_relative_href_resolves_beside_the_sidecar_and_url_overrides_it(tmp_path):
    sidecar = FIXTURES / "t_float.h5.dmrpp"
    assert 'dmrpp:href="data/dmrpp/t_float.h5"' in sidecar.read_text()
    scan(sidecar, "-o", tmp_path / "beside.json")
    assert references(tmp_path / "beside.json")["d32_1/0"][0] == str(FIXTURES / "t_float.h5")
    scan(sidecar, "-o", tmp_path / "url.json", "--url", "https://data.example/{name}")
    assert references(tmp_path / "url.json")["d32_1/0"][0] == "https://data.example/t_float.h5"


@needs_fixtures
def test_without_a_byte_order_a_variable_is_refused_unless_the_user_gives_one(tmp_path, mounts):
    # Older build_dmrpp wrote no byteOrder. The order is the user's word then, not a guess: this
    # granule is little-endian, ntypes.h5's atomic_type_1 (also without byteOrder) big-endian.
    sidecar = FIXTURES / "d_int.h5.dmrpp"
    assert "byteOrder" not in sidecar.read_text()
    out = scan(sidecar, "-o", tmp_path / "none.json", "--skip-unsupported")
    refused = [line for line in out.stderr.splitlines() if "not referenced" in line]
    assert len(refused) == 4 and all("does not say the byte order" in line and "--dmrpp-byte-order" in line
                                     for line in refused), out.stderr
    with h5py.File(FIXTURES / "d_int.h5") as granule:
        for order, same in (("LE", True), ("BE", False)):
            scan(sidecar, "-o", tmp_path / f"{order}.json", "--dmrpp-byte-order", order)
            mount = mounts(tmp_path / f"{order}.json", "-o", f"allow_local={FIXTURES}")
            for array in ("d16_1", "d16_2", "d32_1", "d32_2"):
                got = zarr.open_array(str(mount.path(array)), mode="r")[...]
                assert np.array_equal(got, granule[array][...]) == same, (order, array)
            mount.unmount()
    out = scan(sidecar, "-o", tmp_path / "bad.json", "--dmrpp-byte-order", "native", check=False)
    assert out.returncode != 0 and "--dmrpp-byte-order native: not LE or BE" in out.stderr


@pytest.mark.parametrize("text,message", [
    ("not xml at all", "line 1: not XML: syntax error"),
    ("<html><body>a web page</body></html>", "line 1: <html>: the root is no DMR++ Dataset with a dmrpp:href"),
    ('<?xml version="1.0"?>\n<!DOCTYPE Dataset [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
     '<Dataset dmrpp:href="x.h5">&secret;</Dataset>', "a document type declaration (DTDs and entities are not read)"),
    ('<Dataset xmlns:dmrpp="d" dmrpp:href="x.h5">\n<Int32 name="v"><Dim size="4"/>\n'
     '<dmrpp:chunks byteOrder="LE"><dmrpp:chunkDimensionSizes>2</dmrpp:chunkDimensionSizes>\n'
     '<dmrpp:chunk offset="10" nBytes="8" chunkPositionInArray="[1]"/></dmrpp:chunks></Int32></Dataset>',
     "line 4: <dmrpp:chunk>: chunkPositionInArray [1] is no chunk's first element"),
    ('<Dataset xmlns:dmrpp="d" dmrpp:href="x.h5">\n<Int32 name="v"><Dim name="/nowhere"/></Int32></Dataset>',
     "line 2: <Dim>: dimension /nowhere is not declared"),
    # Two records of an Int32 and a string, the second record's string cut off: "MjAyMw==" ("2023")
    # has no ';' after it.
    ('<Dataset xmlns:dmrpp="d" dmrpp:href="x.h5">\n<Structure name="s"><Int32 name="n"/><String name="t"/>\n'
     '<Dim size="2"/><dmrpp:specialstructuredata>AQAAAE1qQXlNdz09OwIAAABNakF5TXc9PQ==</dmrpp:specialstructuredata>'
     '</Structure></Dataset>',
     "line 3: <dmrpp:specialstructuredata>: specialstructuredata: the string t of record 1 has no ';' after it"),
])
def test_malformed_or_foreign_xml_gets_one_line_naming_the_file_and_element(tmp_path, text, message):
    sidecar = tmp_path / "bad.h5.dmrpp"
    sidecar.write_text(text)
    out = scan(sidecar, "-o", tmp_path / "bad.json", check=False)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if str(sidecar) in line]
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "root:" not in out.stderr  # no local file was read into the output


@needs_fixtures
def test_a_remote_sidecar_takes_one_request_and_names_the_granule_beside_it(nginx, tmp_path, mounts):
    folder = nginx.root / tmp_path.name
    folder.mkdir()
    for name in ("SDS_shuf_def_fle.h5", "SDS_shuf_def_fle.h5.dmrpp"):
        shutil.copy(FIXTURES / name, folder / name)
    sidecar = f"{tmp_path.name}/SDS_shuf_def_fle.h5.dmrpp"
    scan(nginx.url(sidecar), "-o", tmp_path / "remote.json")
    assert nginx.gets(sidecar) == 1
    refs = references(tmp_path / "remote.json")
    assert refs["IntArray/0.0"][0] == nginx.url(f"{tmp_path.name}/SDS_shuf_def_fle.h5")
    m = mounts(tmp_path / "remote.json")
    with h5py.File(folder / "SDS_shuf_def_fle.h5") as f:
        np.testing.assert_array_equal(zarr.open_array(str(m.path("IntArray")), mode="r")[...],
                                      f["IntArray"][...])
    assert os.path.getsize(folder / "SDS_shuf_def_fle.h5.dmrpp") > 0


def test_missing_and_compact_data_are_inlined_from_the_sidecar(tmp_path, mounts):
    """dmrpp:missingdata (zlib, then base64: values a granule lacks) and dmrpp:compact (base64),
    written here with Python's zlib and base64 modules."""
    import base64
    import zlib
    missing = np.arange(12, dtype="<i4").reshape(3, 4) * 7
    compact = np.array([1.5, -2.25, 3.0], dtype=">f8")
    (tmp_path / "g.h5").write_bytes(b"")
    sidecar = tmp_path / "g.h5.dmrpp"
    sidecar.write_text(
        '<Dataset xmlns:dmrpp="d" dmrpp:href="g.h5">\n'
        '<Int32 name="filled"><Dim size="3"/><Dim size="4"/><dmrpp:chunks byteOrder="LE"/>\n'
        f'<dmrpp:missingdata>{base64.b64encode(zlib.compress(missing.tobytes())).decode()}</dmrpp:missingdata>'
        '</Int32>\n'
        '<Float64 name="small"><Dim size="3"/><dmrpp:chunks byteOrder="BE"/>\n'
        f'<dmrpp:compact>{base64.b64encode(compact.tobytes()).decode()}</dmrpp:compact></Float64>\n'
        '<Int32 name="short"><Dim size="5"/><dmrpp:chunks byteOrder="LE"/>\n'
        f'<dmrpp:compact>{base64.b64encode(missing.tobytes()[:8]).decode()}</dmrpp:compact></Int32>\n'
        '</Dataset>\n')
    out = scan(sidecar, "-o", tmp_path / "g.json", check=False)
    assert out.returncode == 1 and "line 7: <dmrpp:compact>: 8 bytes for an array of 20" in out.stderr
    sidecar.write_text("\n".join(sidecar.read_text().splitlines()[:5]) + "\n</Dataset>\n")
    scan(sidecar, "-o", tmp_path / "g.json")
    m = mounts(tmp_path / "g.json")
    np.testing.assert_array_equal(zarr.open_array(str(m.path("filled")), mode="r")[...], missing)
    np.testing.assert_array_equal(zarr.open_array(str(m.path("small")), mode="r")[...], compact)
