// Prints the rows of Parquet reference files as an independent JavaScript reader reads them, one
// JSON array per file: the form tests/tools/parquet_dump.cpp prints with ours. The reader is
// hyparquet, or with --arrow parquet-wasm (Arrow's Rust reader, what pyarrow shares its format
// code with). Run from the directory holding node_modules (packages resolve from the script's place).
// Usage: node parquet_dump.mjs [--arrow] FILE...
import { readFileSync } from "fs";

const args = process.argv.slice(2);
const arrowReader = args[0] === "--arrow";
const files = arrowReader ? args.slice(1) : args;
const text = (v) => (v == null ? null : typeof v === "string" ? v : Buffer.from(v).toString("utf8"));
const number = (v) => (v === null || v === undefined ? null : Number(v));
const row = (r) => ({ path: text(r.path), offset: number(r.offset), size: number(r.size),
  raw: r.raw == null ? null : Buffer.from(r.raw).toString("base64") });

async function read(name) {
  const buf = readFileSync(name);
  if (arrowReader) {
    const pq = await import("parquet-wasm/node");
    const arrow = await import("apache-arrow");
    const table = arrow.tableFromIPC(pq.readParquet(buf).intoIPCStream());
    const column = (n) => table.getChild(n);
    return Array.from({ length: table.numRows }, (_, i) =>
      row({ path: column("path")?.get(i), offset: column("offset")?.get(i), size: column("size")?.get(i),
        raw: column("raw")?.get(i) }));
  }
  const { parquetReadObjects } = await import("hyparquet");
  const { compressors } = await import("hyparquet-compressors");
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return (await parquetReadObjects({ file, compressors, utf8: false })).map(row);
}

for (const name of files) console.log(JSON.stringify(await read(name)));
