// Writes reference rows (a JSON file: [{path, offset, size, raw (base64)}, ...]) as a Parquet
// file with an independent writer: `hyparquet-writer`, or `parquet-wasm` (Arrow's Rust writer)
// with a compression, dictionary or plain values, and V1 or V2 pages.
// Usage: node parquet_write.mjs ROWS.json OUT.parq hyparquet-writer [--without|--as-text COLUMN]
//        node parquet_write.mjs ROWS.json OUT.parq parquet-wasm COMPRESSION dict|plain V1|V2
import { readFileSync, writeFileSync } from "fs";

const [rowsFile, out, writer, compression, dictionary, version] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(rowsFile, "utf8"));
const big = (v) => (v === null ? null : BigInt(v));
const path = rows.map((r) => r.path);
const offset = rows.map((r) => big(r.offset));
const size = rows.map((r) => big(r.size));
const raw = rows.map((r) => (r.raw === null ? null : new Uint8Array(Buffer.from(r.raw, "base64"))));

if (writer === "hyparquet-writer") {
  const { parquetWriteFile } = await import("hyparquet-writer");
  // Broken sets: a column left out, or an integer column written as text.
  const [change, changed] = [compression, dictionary];
  const columnData = [
    { name: "path", data: path, type: "STRING" },
    { name: "offset", data: offset, type: "INT64" },
    { name: "size", data: size, type: "INT64" },
    { name: "raw", data: raw, type: "BYTE_ARRAY" },
  ]
    .filter((column) => !(change === "--without" && column.name === changed))
    .map((column) =>
      change === "--as-text" && column.name === changed
        ? { ...column, type: "STRING", data: column.data.map((v) => (v === null ? null : String(v))) }
        : column,
    );
  parquetWriteFile({ filename: out, columnData });
} else {
  const arrow = await import("apache-arrow");
  const pq = await import("parquet-wasm/node");
  const table = new arrow.Table({
    path: arrow.vectorFromArray(path, new arrow.Utf8()),
    offset: arrow.vectorFromArray(offset, new arrow.Int64()),
    size: arrow.vectorFromArray(size, new arrow.Int64()),
    raw: arrow.vectorFromArray(raw, new arrow.Binary()),
  });
  const properties = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression[compression])
    .setDictionaryEnabled(dictionary === "dict")
    .setWriterVersion(pq.WriterVersion[version])
    .build();
  writeFileSync(out, pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), properties));
}
