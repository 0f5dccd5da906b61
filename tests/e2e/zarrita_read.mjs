// Reads whole zarr v2 arrays with zarrita.js (Node's own file system store): for each array path
// given after the store's directory, one JSON line with its shape, dtype and values, or its error.
// Run from the directory holding node_modules (ES modules resolve packages from the script).
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

const [root, ...paths] = process.argv.slice(2);
const store = new FileSystemStore(root);
for (const path of paths) {
  try {
    const array = await zarr.open.v2(zarr.root(store).resolve(path), { kind: "array" });
    const got = await zarr.get(array);
    const values = Array.from(got.data, (v) => (typeof v === "bigint" ? Number(v) : v));
    console.log(JSON.stringify({ path, shape: got.shape, dtype: array.dtype, values }));
  } catch (error) {
    console.log(JSON.stringify({ path, error: String(error) }));
  }
}
