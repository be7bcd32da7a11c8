#!/usr/bin/env node
// The `tfmc` command. In a source checkout, dist/ exists once `npm run build` (or `npm test`) ran;
// the published package ships it built.
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/main.js", import.meta.url);
let main;
try {
  ({ main } = await import(entry.href));
} catch (e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.message).includes(fileURLToPath(entry))) throw e;
  process.stderr.write("tfmc: error: tfmc is not built (no dist/cli/main.js); run npm run build in its folder\n");
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
