// The extension's wiring, with VS Code and the language client replaced by recorders.
// VS Code itself cannot be downloaded here, so this checks what the extension asks of them:
// the client it starts, the restart command, the error when the server is missing.
const test = require("node:test");
const assert = require("node:assert");
const Module = require("module");
const fs = require("fs");
const os = require("os");
const path = require("path");

function fakes(settings) {
  const calls = { errors: [], commands: {}, clients: [], executed: [] };
  const vscode = {
    workspace: {
      getConfiguration: () => ({ get: (key, fallback) => (key in settings ? settings[key] : fallback) }),
      onDidChangeConfiguration: (listener) => ((calls.onConfig = listener), { dispose() {} }),
      createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    },
    window: { showErrorMessage: async (message, ...items) => (calls.errors.push({ message, items }), undefined) },
    commands: {
      registerCommand: (name, fn) => ((calls.commands[name] = fn), { dispose() {} }),
      executeCommand: async (...args) => calls.executed.push(args),
    },
  };
  class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      Object.assign(this, { id, name, serverOptions, clientOptions, started: 0, stopped: 0 });
      calls.clients.push(this);
    }
    async start() { this.started += 1; }
    async stop() { this.stopped += 1; }
    dispose() {}
  }
  const client = { LanguageClient, TransportKind: { stdio: 0 } };
  return { vscode, client, calls };
}

function load(settings) {
  const { vscode, client, calls } = fakes(settings);
  const original = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === "vscode") return vscode;
    if (request === "vscode-languageclient/node") return client;
    return original.apply(this, arguments);
  };
  const file = require.resolve("../out/extension.js");
  delete require.cache[file];
  try {
    return { extension: require(file), calls };
  } finally {
    Module._load = original;
  }
}

function fakeServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clan-lsp-ext-"));
  const exe = path.join(dir, "clan-lsp");
  fs.writeFileSync(exe, "#!/bin/sh\n");
  fs.chmodSync(exe, 0o755);
  return exe;
}

test("activation starts clan-lsp over stdio for Nix files", async () => {
  const exe = fakeServer();
  const { extension, calls } = load({ "server.command": exe, "diagnostics.disabled": ["missing-readme"] });
  const context = { subscriptions: [] };
  await extension.activate(context);
  assert.strictEqual(calls.clients.length, 1);
  const started = calls.clients[0];
  assert.strictEqual(started.started, 1);
  assert.deepStrictEqual(started.serverOptions.run, { command: exe, args: ["--stdio"], transport: 0 });
  assert.deepStrictEqual(started.clientOptions.documentSelector.map((s) => s.language), ["nix", "nix"]);
  assert.deepStrictEqual(started.clientOptions.initializationOptions.diagnostics.disabled, ["missing-readme"]);
  assert.strictEqual(started.clientOptions.synchronize.configurationSection, "clan-lsp");
  assert.strictEqual(started.clientOptions.synchronize.fileEvents.glob, "**/{*.nix,flake.lock}");
  assert.ok("clan-lsp.restartServer" in calls.commands);
});

test("the restart command stops the client and starts a new one", async () => {
  const exe = fakeServer();
  const { extension, calls } = load({ "server.command": exe });
  await extension.activate({ subscriptions: [] });
  await calls.commands["clan-lsp.restartServer"]();
  assert.strictEqual(calls.clients.length, 2);
  assert.strictEqual(calls.clients[0].stopped, 1);
  assert.strictEqual(calls.clients[1].started, 1);
});

test("changing the server setting restarts; other settings do not", async () => {
  const exe = fakeServer();
  const { extension, calls } = load({ "server.command": exe });
  await extension.activate({ subscriptions: [] });
  await calls.onConfig({ affectsConfiguration: (s) => s === "clan-lsp.diagnostics" });
  assert.strictEqual(calls.clients.length, 1);
  await calls.onConfig({ affectsConfiguration: (s) => s === "clan-lsp.server" });
  assert.strictEqual(calls.clients.length, 2);
});

test("a missing server gives a clear error with the fix and starts nothing", async () => {
  const { extension, calls } = load({ "server.command": "/nonexistent/clan-lsp" });
  await extension.activate({ subscriptions: [] });
  assert.strictEqual(calls.clients.length, 0);
  assert.strictEqual(calls.errors.length, 1);
  assert.match(calls.errors[0].message, /pip install clan-lsp/);
  assert.deepStrictEqual(calls.errors[0].items, ["Open Settings"]);
});
