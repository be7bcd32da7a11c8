import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_FLAGS, flagName } from "../../src/cli/usage.js";
import { ROOT } from "../helpers.js";

// The README's list of commands names every flag each command takes.

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const block = readme.slice(readme.indexOf("## The commands"), readme.indexOf("## Using a generated module"));
const build = /`BUILD` is `([^`]*)`/.exec(block)?.[1] ?? "";

describe("README's command list", () => {
  it.each(Object.keys(COMMAND_FLAGS))("lists every flag of tfmc %s", (command) => {
    const lines = block
      .split("\n")
      .filter((l) => l.startsWith(`tfmc ${command} `))
      .join(" ")
      .replace("[BUILD]", build);
    expect(lines, command).not.toBe("");
    const missing = COMMAND_FLAGS[command].filter((f) => {
      const short = f === "out" ? / -o /.test(lines) : false;
      const elided = f.startsWith("weights-") && lines.includes("--weights w.safetensors ...");
      return !short && !elided && !lines.includes(flagName(f));
    });
    expect(missing).toEqual([]);
  });
});
