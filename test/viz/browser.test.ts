import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ROOT } from "../helpers.js";

// The HTML page in a real headless Chromium (Debian's package; .ci/run installs it when missing).
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

describe("tfmc graph --format html in Chromium", () => {
  it("loads, zooms, and shows a clicked node's source line, shape, FLOPs and parameters", async () => {
    expect(existsSync(CHROMIUM), "chromium is not installed (apt-get install chromium)").toBe(true);
    const page = join(ROOT, "test", ".generated", "browser", "encoder_layer.html");
    const io = { out: () => {}, err: () => {}, color: false };
    expect(await main(["graph", "examples/torch/encoder_layer.tfm", "--stage", "optimized", "-o", page], io)).toBe(0);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    try {
      const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      tab.on("pageerror", (e) => errors.push(e.message));
      await tab.goto(pathToFileURL(page).href);
      const nodes = tab.locator("g.node");
      expect(await nodes.count()).toBeGreaterThan(5);
      const attention = tab.locator("g.node", { hasText: "online softmax" }).first();
      await attention.click();
      await expect.poll(() => tab.locator("#node-title").textContent()).toContain("attention");
      const info = (await tab.locator("#node-info").textContent()) ?? "";
      const source = readFileSync(join(ROOT, "examples/torch/encoder_layer.tfm"), "utf8").split("\n");
      const line = Number(/source line(\d+)/.exec(info)?.[1]);
      expect(source[line - 1]).toContain("attention(");
      expect(info).toContain("f32[B, 8, S, 64]");
      expect(info).toMatch(/flops\S*·B·S²/);
      await tab.mouse.move(500, 400);
      await tab.mouse.wheel(0, -400);
      expect(await tab.locator("#view svg").evaluate((s) => (s as SVGElement).style.transform)).toMatch(/scale\((?!1\))/);
      const shot = await tab.screenshot();
      expect(shot.length).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

export const chromiumVersion = () => (existsSync(CHROMIUM) ? execFileSync(CHROMIUM, ["--version"], { encoding: "utf8" }).trim() : "missing");
