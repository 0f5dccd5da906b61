// kerchunk's parquet reference layout, converted with independent JavaScript implementations:
//   node parquet_layout.mjs to-json DIR.parq OUT.json
//     reads every DIR/ARRAY/refs.K.parq with hyparquet: the chunk references, as JSON (the caller
//     adds the metadata, which JavaScript's numbers would round: 1e20 would print as digits)
//   node parquet_layout.mjs from-json IN.json DIR.parq RECORD_SIZE hyparquet-writer
//   node parquet_layout.mjs from-json IN.json DIR.parq RECORD_SIZE parquet-wasm COMPRESSION dict|plain V1|V2
//     writes a JSON set (version 1, no templates) in the layout, refs files by the given writer
// Run from the directory holding node_modules.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";

const [mode, input, output, ...rest] = process.argv.slice(2);
const isMeta = (key) => /(^|\/)\.z(group|attrs|array)$/.test(key);

function chunkIndex(key, meta) {
  const counts = meta.shape.map((s, i) => Math.ceil(s / meta.chunks[i]));
  const parts = key.split(".").map(Number);
  if (parts.length !== counts.length || parts.some((p, i) => !(p >= 0 && p < counts[i]))) return null;
  return parts.reduce((index, p, i) => index * counts[i] + p, 0);
}

if (mode === "to-json") {
  const zmetadata = JSON.parse(readFileSync(join(input, ".zmetadata"), "utf8"));
  const refs = {};
  for (const [key, value] of Object.entries(zmetadata.metadata)) {
    if (!key.endsWith(".zarray")) continue;
    const array = key.slice(0, -".zarray".length - 1);
    const counts = value.shape.map((s, i) => Math.ceil(s / value.chunks[i]));
    const total = counts.reduce((a, b) => a * b, 1);
    const folder = join(input, array);
    const files = readdirSync(folder).filter((f) => /^refs\.\d+\.parq$/.test(f));
    for (const file of files) {
      const k = Number(file.split(".")[1]);
      const buf = readFileSync(join(folder, file));
      const rows = await parquetReadObjects({
        file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), compressors, utf8: false });
      rows.forEach((row, r) => {
        let index = k * zmetadata.record_size + r;
        if (index >= total) return;
        const name = [];
        for (let d = counts.length - 1; d >= 0; d--) { name.unshift(index % counts[d]); index = Math.floor(index / counts[d]); }
        const chunk = `${array}/${name.join(".")}`;
        const path = row.path == null ? null : typeof row.path === "string" ? row.path : Buffer.from(row.path).toString();
        if (row.raw != null) refs[chunk] = "base64:" + Buffer.from(row.raw).toString("base64");
        else if (path !== null && Number(row.offset ?? 0) === 0 && Number(row.size ?? 0) === 0) refs[chunk] = [path];
        else if (path !== null) refs[chunk] = [path, Number(row.offset), Number(row.size)];
      });
    }
  }
  writeFileSync(output, JSON.stringify(refs));
} else {
  const [recordText, writer, compression, dictionary, version] = rest;
  const recordSize = Number(recordText);
  const refs = JSON.parse(readFileSync(input, "utf8")).refs;
  const metadata = {};
  const arrays = {};
  for (const [key, value] of Object.entries(refs)) {
    if (!isMeta(key)) continue;
    metadata[key] = JSON.parse(value);
    if (key.endsWith(".zarray")) arrays[key.slice(0, -".zarray".length - 1)] = metadata[key];
  }
  mkdirSync(output, { recursive: true });
  writeFileSync(join(output, ".zmetadata"), JSON.stringify({ metadata, record_size: recordSize }));
  for (const [array, meta] of Object.entries(arrays)) {
    const total = meta.shape.map((s, i) => Math.ceil(s / meta.chunks[i])).reduce((a, b) => a * b, 1);
    const rows = Array.from({ length: Math.ceil(total / recordSize) * recordSize }, () =>
      ({ path: null, offset: 0n, size: 0n, raw: null }));
    for (const [key, value] of Object.entries(refs)) {
      if (!key.startsWith(array + "/") || key.slice(array.length + 1).includes("/")) continue;
      const index = chunkIndex(key.slice(array.length + 1), meta);
      if (index === null) continue;
      if (typeof value === "string") {
        const bytes = value.startsWith("base64:") ? Buffer.from(value.slice(7), "base64") : Buffer.from(value);
        rows[index] = { path: null, offset: 0n, size: 0n, raw: new Uint8Array(bytes) };
      } else {
        rows[index] = { path: value[0], offset: BigInt(value[1] ?? 0), size: BigInt(value[2] ?? 0), raw: null };
      }
    }
    mkdirSync(join(output, array), { recursive: true });
    for (let k = 0; k * recordSize < rows.length; k++) {
      const part = rows.slice(k * recordSize, (k + 1) * recordSize);
      const file = join(output, array, `refs.${k}.parq`);
      const columns = {
        path: part.map((r) => r.path), offset: part.map((r) => r.offset),
        size: part.map((r) => r.size), raw: part.map((r) => r.raw) };
      if (writer === "hyparquet-writer") {
        const { parquetWriteFile } = await import("hyparquet-writer");
        parquetWriteFile({ filename: file, columnData: [
          { name: "path", data: columns.path, type: "STRING" }, { name: "offset", data: columns.offset, type: "INT64" },
          { name: "size", data: columns.size, type: "INT64" }, { name: "raw", data: columns.raw, type: "BYTE_ARRAY" }] });
      } else {
        const arrow = await import("apache-arrow");
        const pq = await import("parquet-wasm/node");
        const table = new arrow.Table({
          path: arrow.vectorFromArray(columns.path, new arrow.Utf8()),
          offset: arrow.vectorFromArray(columns.offset, new arrow.Int64()),
          size: arrow.vectorFromArray(columns.size, new arrow.Int64()),
          raw: arrow.vectorFromArray(columns.raw, new arrow.Binary()) });
        const properties = new pq.WriterPropertiesBuilder().setCompression(pq.Compression[compression])
          .setDictionaryEnabled(dictionary === "dict").setWriterVersion(pq.WriterVersion[version]).build();
        writeFileSync(file, pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), properties));
      }
    }
  }
}
