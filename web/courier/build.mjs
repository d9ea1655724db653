// Builds the courier app into crates/service/app/, the files the service
// embeds. `node build.mjs --check` builds into a temporary folder instead and
// fails unless every file equals the committed one, byte for byte.

import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const committed = join(here, "..", "..", "crates", "service", "app");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "courier-app-")) : committed;

const common = {
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome100", "safari16", "firefox115"],
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
  write: false,
};

async function build() {
  mkdirSync(out, { recursive: true });
  const statics = readdirSync(join(here, "static")).sort();
  for (const f of statics) {
    copyFileSync(join(here, "static", f), join(out, f));
  }
  const app = await esbuild.build({ ...common, entryPoints: [join(here, "src", "main.ts")] });
  const appJs = app.outputFiles[0].contents;
  writeFileSync(join(out, "app.js"), appJs);
  // The worker's cache name changes whenever any shell file does.
  const shell = createHash("sha256");
  for (const f of [...statics, "app.js"].sort()) {
    shell.update(f).update(readFileSync(join(out, f)));
  }
  const version = shell.digest("hex").slice(0, 16);
  const sw = await esbuild.build({
    ...common,
    entryPoints: [join(here, "src", "sw.ts")],
    define: { SHELL_VERSION: JSON.stringify(version) },
  });
  writeFileSync(join(out, "sw.js"), sw.outputFiles[0].contents);
}

await build();

if (check) {
  const built = readdirSync(out).sort();
  const have = readdirSync(committed).sort();
  const problems = [];
  if (built.join() !== have.join()) {
    problems.push(`files differ: built [${built}] committed [${have}]`);
  }
  for (const f of built) {
    if (have.includes(f) && !readFileSync(join(out, f)).equals(readFileSync(join(committed, f)))) {
      problems.push(`${f} differs from the sources' build`);
    }
  }
  rmSync(out, { recursive: true, force: true });
  if (problems.length > 0) {
    console.error("crates/service/app/ is not the build of web/courier/: run `npm run build` there and commit.");
    for (const p of problems) console.error("  " + p);
    process.exit(1);
  }
  console.log(`crates/service/app/ reproduces from web/courier/ (${built.length} files, byte for byte)`);
}
