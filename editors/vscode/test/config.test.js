// Tests of the pure configuration logic, under Node's own test runner.
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const config = require("../out/config.js");

const get = (values) => (key, fallback) => (key in values ? values[key] : fallback);

test("defaults start clan-lsp from PATH over stdio", () => {
  const settings = config.readSettings(get({}));
  assert.deepStrictEqual(config.serverLaunch(settings), { command: "clan-lsp", args: ["--stdio"] });
  assert.deepStrictEqual(config.initializationOptions(settings), { diagnostics: { run: "onType", disabled: [] }, clanDate: null });
});

test("a Python interpreter runs the module", () => {
  const settings = config.readSettings(get({ "server.pythonPath": "/venv/bin/python" }));
  assert.deepStrictEqual(config.serverLaunch(settings), { command: "/venv/bin/python", args: ["-m", "clan_lsp", "--stdio"] });
});

test("diagnostics settings reach the server", () => {
  const settings = config.readSettings(get({ "diagnostics.run": "onSave", "diagnostics.disabled": ["missing-readme"], clanDate: "2026-01-10" }));
  assert.deepStrictEqual(config.initializationOptions(settings), { diagnostics: { run: "onSave", disabled: ["missing-readme"] }, clanDate: "2026-01-10" });
  assert.strictEqual(config.readSettings(get({ "diagnostics.run": "bogus" })).diagnosticsRun, "onType");
});

test("the document selector is Nix files", () => {
  assert.ok(config.DOCUMENT_SELECTOR.every((s) => s.language === "nix"));
});

test("findExecutable searches PATH and rejects what is missing", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clan-lsp-"));
  const exe = path.join(dir, "clan-lsp");
  fs.writeFileSync(exe, "#!/bin/sh\n");
  fs.chmodSync(exe, 0o755);
  assert.strictEqual(config.findExecutable("clan-lsp", { PATH: dir }), exe);
  assert.strictEqual(config.findExecutable("clan-lsp", { PATH: "/nonexistent" }), undefined);
  assert.strictEqual(config.findExecutable(exe, {}), exe);
  assert.match(config.notFoundMessage({ command: "clan-lsp", args: [] }), /pip install clan-lsp/);
});
