// Writes the same synthetic parquet reference set as kerchunkfs-bench-make-parquet (4 float arrays
// of N/4 chunks, each chunk a range of one of 1000 files, rows padded to the record size), but with
// parquet-wasm (Arrow's Rust writer, its defaults: dictionary pages, zstd here): a set whose files
// come from an independent writer, for bench/run_parquet_mount.py.
// Usage: node make_parquet_refs.mjs DIR.parq N [RECORD_SIZE]   (run where parquet-wasm resolves)
import { mkdirSync, writeFileSync } from "fs";

const arrow = await import("apache-arrow");
const pq = await import("parquet-wasm/node");
const [root, totalText, recordText] = process.argv.slice(2);
const total = Number(totalText);
const recordSize = Number(recordText ?? 100000);
const perArray = Math.floor(total / 4);
const properties = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).build();
const names = Array.from({ length: 1000 }, (_, i) => `s3://bucket/data/day${i}.nc`);
const metadata = { ".zgroup": { zarr_format: 2 } };
for (let a = 0; a < 4; ++a) {
  const name = `v${a}`;
  metadata[`${name}/.zarray`] = {
    chunks: [1000], compressor: { id: "zlib", level: 1 }, dtype: "<f4", fill_value: 0.0, filters: null,
    order: "C", shape: [perArray * 1000], zarr_format: 2,
  };
  metadata[`${name}/.zattrs`] = { _ARRAY_DIMENSIONS: ["x"] };
  mkdirSync(`${root}/${name}`, { recursive: true });
  for (let first = 0, k = 0; first < perArray; first += recordSize, ++k) {
    const path = new Array(recordSize);
    const offset = new BigInt64Array(recordSize);
    const size = new BigInt64Array(recordSize);
    for (let r = 0; r < recordSize; ++r) {
      const i = first + r;
      if (i >= perArray) {
        path[r] = null;
        continue;
      }
      path[r] = names[i % 1000];
      offset[r] = BigInt(4096 + Math.floor(i / 1000) * 2000);
      size[r] = BigInt(1900 + (i % 97));
    }
    const table = new arrow.Table({
      path: arrow.vectorFromArray(path, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      offset: arrow.makeVector(offset),
      size: arrow.makeVector(size),
      raw: arrow.vectorFromArray(new Array(recordSize).fill(null), new arrow.Binary()),
    });
    const bytes = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), properties);
    writeFileSync(`${root}/${name}/refs.${k}.parq`, bytes);
  }
}
writeFileSync(`${root}/.zmetadata`, JSON.stringify({ metadata, record_size: recordSize }));
