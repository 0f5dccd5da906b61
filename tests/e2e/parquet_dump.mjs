// Prints the rows of Parquet reference files as hyparquet (an independent JavaScript reader) reads
// them, one JSON array per file: the form tests/tools/parquet_dump.cpp prints with ours. Run from
// the directory holding node_modules (ES modules resolve packages from the script's place).
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { readFileSync } from "fs";
for (const name of process.argv.slice(2)) {
const buf = readFileSync(name);
const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
const rows = await parquetReadObjects({ file, compressors, utf8: false });
const text = (v) => (v == null ? null : typeof v === "string" ? v : Buffer.from(v).toString("utf8"));
const out = rows.map((r) => ({ path: text(r.path), offset: r.offset === null || r.offset === undefined ? null : Number(r.offset),
  size: r.size === null || r.size === undefined ? null : Number(r.size), raw: r.raw == null ? null : Buffer.from(r.raw).toString("base64") }));
console.log(JSON.stringify(out));
}
