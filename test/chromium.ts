import { createServer } from "node:http";
import { existsSync, readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { chromium, type Browser } from "playwright-core";

// Headless Chromium (Debian's package, driven by playwright-core) and a small static file server
// on 127.0.0.1 for the browser tests of generated modules.

export const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TYPES: Record<string, string> = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".json": "application/json" };

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error("chromium is not installed (apt-get install chromium)");
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

export interface Served {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Serves the files under `root` over HTTP. `isolated`: with the headers that make a page
 * cross-origin isolated (Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy), which
 * SharedArrayBuffer, and so worker threads, need.
 */
export async function serveFolder(root: string, opts: { isolated: boolean }): Promise<Served> {
  const base = normalize(root + sep);
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    if (!path.startsWith(base) || !existsSync(path) || !statSync(path).isFile() || !TYPES[extname(path)]) {
      res.writeHead(404).end();
      return;
    }
    const isolation = opts.isolated ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
    res.writeHead(200, { "content-type": TYPES[extname(path)], ...isolation });
    res.end(readFileSync(path));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
