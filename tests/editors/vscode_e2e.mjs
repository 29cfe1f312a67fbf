// The real VS Code (code-server) with the built clan-lsp .vsix, driven in headless chromium.
//
//   node tests/editors/vscode_e2e.mjs --cache DIR --vsix clan-lsp.vsix --python PYTHON
//        [--result result.json] [--screenshots docs/screenshots] [--keep]
//
// DIR is what tests/editors/setup_code_server.sh installed (code-server, puppeteer-core).
// Everything the run writes (code-server's config, user data, extensions, XDG dirs, the
// browser profile, a copy of the workspace) lives in one temporary folder; code-server
// listens on 127.0.0.1 only and is stopped by process group. Exits 1 when a check fails.
//
// Checks, as a person would see them: the Problems count equals the number of findings of
// `clan-lsp check examples/broken` (not doubled, not missing), squiggles are drawn,
// completion after a trigger lists server items, hover shows the interface, go to
// definition on an export interface lands on its declaration, "clan-lsp: Restart Server"
// starts a new server, and disabling a code in the settings drops the count.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = parseArgs(process.argv.slice(2));
const CACHE = resolve(required("cache"));
const VSIX = resolve(required("vsix"));
const PYTHON = args.python || "python3";
const CHROMIUM = args.chromium || "/usr/bin/chromium";
const SERVER_ROOT = resolve(args["server-root"] || ROOT); // the clan_lsp the editor runs
const puppeteer = createRequire(join(CACHE, "package.json"))("puppeteer-core");

const SETTLE_MS = 2000; // a count is read once it stayed the same this long
const WAIT_MS = 60000;

const result = { checks: [], expected: null, problems: {}, timings: {} };
const started = Date.now();
const temp = mkdtempSync(join(tmpdir(), "clan-lsp-vscode-"));
let codeServer;
let browser;

function parseArgs(argv) {
  const parsed = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) parsed[name] = argv[++i];
    else parsed[name] = true;
  }
  return parsed;
}

function required(name) {
  if (!args[name]) {
    console.error(`vscode_e2e: --${name} is required`);
    process.exit(2);
  }
  return args[name];
}

function check(name, ok, detail) {
  result.checks.push({ name, ok: Boolean(ok), detail });
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail === undefined ? "" : `: ${JSON.stringify(detail)}`}`);
}

function mark(name) {
  result.timings[name] = (Date.now() - started) / 1000;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, probe, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** A value read repeatedly until it stops changing (and satisfies `ready`). */
async function settled(what, probe, ready = () => true, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last = JSON.stringify(await probe());
  let since = Date.now();
  for (;;) {
    await sleep(250);
    const value = await probe();
    const text = JSON.stringify(value);
    if (text !== last) {
      last = text;
      since = Date.now();
    } else if (Date.now() - since >= SETTLE_MS && ready(value)) {
      return value;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} to settle (last: ${text})`);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once("error", rej);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

/** What `clan-lsp check examples/broken --format json` reports: the count the editor must show. */
function expectedFindings() {
  const run = spawnSync(PYTHON, ["-m", "clan_lsp", "check", "--format", "json", join(ROOT, "examples/broken")], {
    env: { ...process.env, PYTHONPATH: SERVER_ROOT },
    encoding: "utf8",
  });
  const findings = JSON.parse(run.stdout).findings;
  const distinct = new Set(findings.map((f) => `${f.line}:${f.column}:${f.code}`));
  const lines = [...new Set(findings.map((f) => f.line))].sort((a, b) => a - b);
  return {
    count: distinct.size,
    lines,
    errors: findings.filter((f) => f.severity === "error").length,
    warnings: findings.filter((f) => f.severity === "warning").length,
    codes: findings.map((f) => f.code),
    first: { line: findings[0].line, column: findings[0].column },
  };
}

function prepare() {
  const dirs = {};
  for (const name of ["config", "user-data", "extensions", "xdg-data", "xdg-config", "xdg-cache", "xdg-state", "xdg-runtime", "browser", "workspace"]) {
    dirs[name] = join(temp, name);
    mkdirSync(dirs[name], { recursive: true, mode: 0o700 });
  }
  // A clan with a custom export interface (go to definition) and the broken example beside it.
  cpSync(join(ROOT, "tests/workspaces/clean"), dirs.workspace, { recursive: true });
  mkdirSync(join(dirs.workspace, "broken"));
  cpSync(join(ROOT, "examples/broken/default.nix"), join(dirs.workspace, "broken/default.nix"));

  // The server the extension starts: this checkout's clan_lsp; each start leaves a line.
  dirs.starts = join(temp, "server-starts.log");
  dirs.wrapper = join(temp, "clan-lsp-server");
  writeFileSync(
    dirs.wrapper,
    `#!/bin/sh\necho "$$" >> '${dirs.starts}'\nPYTHONPATH='${SERVER_ROOT}' exec '${PYTHON}' -m clan_lsp "$@"\n`,
  );
  chmodSync(dirs.wrapper, 0o755);

  writeFileSync(join(dirs.config, "config.yaml"), "bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n");
  dirs.settings = join(dirs["user-data"], "User/settings.json");
  mkdirSync(dirname(dirs.settings), { recursive: true });
  return dirs;
}

function userSettings(dirs) {
  const settings = {
    "clan-lsp.server.command": dirs.wrapper,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "git.enabled": false,
    "chat.commandCenter.enabled": false,
    "workbench.colorTheme": "Default Light Modern",
    "editor.minimap.enabled": false,
    "window.commandCenter": false,
    "files.autoSave": "off", // the edits below are undone with File: Revert File
    // settings.json is edited by typing: nothing may close, complete or indent for us there
    "[jsonc]": {
      "editor.autoClosingBrackets": "never",
      "editor.autoClosingQuotes": "never",
      "editor.autoIndent": "none",
      "editor.quickSuggestions": { "other": "off", "comments": "off", "strings": "off" },
      "editor.suggestOnTriggerCharacters": false,
      "editor.formatOnType": false,
    },

  };
  writeFileSync(dirs.settings, JSON.stringify(settings, null, 2));
}

function codeServerEnv(dirs) {
  return {
    ...process.env,
    XDG_DATA_HOME: dirs["xdg-data"],
    XDG_CONFIG_HOME: dirs["xdg-config"],
    XDG_CACHE_HOME: dirs["xdg-cache"],
    XDG_STATE_HOME: dirs["xdg-state"],
    XDG_RUNTIME_DIR: dirs["xdg-runtime"],
  };
}

function codeServerArgs(dirs) {
  return ["--config", join(dirs.config, "config.yaml"), "--user-data-dir", dirs["user-data"], "--extensions-dir", dirs.extensions];
}

const CODE_SERVER = () => join(CACHE, "node_modules/code-server/out/node/entry.js");

function installExtension(dirs) {
  const run = spawnSync(process.execPath, [CODE_SERVER(), ...codeServerArgs(dirs), "--install-extension", VSIX], {
    env: codeServerEnv(dirs),
    encoding: "utf8",
  });
  check("the .vsix installs into code-server", run.status === 0, (run.stdout + run.stderr).trim().split("\n").slice(-2).join(" "));
  if (run.status !== 0) throw new Error("extension install failed");
}

async function startCodeServer(dirs) {
  const port = await freePort();
  const log = join(temp, "code-server.log");
  const out = [];
  codeServer = spawn(
    process.execPath,
    [CODE_SERVER(), ...codeServerArgs(dirs), "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", "--ignore-last-opened", dirs.workspace],
    { env: codeServerEnv(dirs), detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  codeServer.stdout.on("data", (d) => out.push(d));
  codeServer.stderr.on("data", (d) => out.push(d));
  codeServer.on("exit", () => writeFileSync(log, Buffer.concat(out)));
  const url = `http://127.0.0.1:${port}`;
  await until("code-server to answer", async () => {
    try {
      return (await fetch(`${url}/healthz`)).ok;
    } catch {
      return false;
    }
  });
  return url;
}

function stopCodeServer() {
  if (codeServer && codeServer.exitCode === null) {
    try {
      process.kill(-codeServer.pid, "SIGTERM"); // its process group: code-server, extension host, clan-lsp
    } catch {}
  }
}

// -- the page

async function keys(page, ...chord) {
  for (const key of chord) await page.keyboard.down(key);
  for (const key of [...chord].reverse()) await page.keyboard.up(key);
}

async function quickInput(page, chord, text) {
  await keys(page, ...chord);
  await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { visible: true, timeout: WAIT_MS });
  await sleep(200);
  await page.keyboard.type(text, { delay: 10 });
  return page;
}

async function runCommand(page, title) {
  await quickInput(page, ["Control", "Shift", "KeyP"], title);
  await until(`the command "${title}" first in the palette`, () =>
    page.evaluate((t) => {
      const first = document.querySelector(".quick-input-list .monaco-list-row[data-index='0'] .quick-input-list-label");
      return first && first.textContent.trim().startsWith(t);
    }, title),
  );
  await page.keyboard.press("Enter");
}

async function openFile(page, relative) {
  await quickInput(page, ["Control", "KeyP"], relative);
  await until(`"${relative}" in quick open`, () =>
    page.evaluate((name) => {
      const rows = [...document.querySelectorAll(".quick-input-list .monaco-list-row")];
      return rows.length > 0 && rows[0].textContent.includes(name.split("/").pop());
    }, relative),
  );
  await sleep(300);
  await page.keyboard.press("Enter");
  await until(`an editor for ${relative}`, async () => (await activePath(page)).startsWith(relative));
  await page.waitForSelector(".editor-group-container.active .monaco-editor .view-lines", { visible: true });
}

/** The active editor's path as its breadcrumbs show it (relative to the workspace). */
async function activePath(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll(".editor-group-container.active .breadcrumbs-control .monaco-breadcrumb-item")]
      .map((item) => item.textContent.trim())
      .join("/"),
  );
}

/** Ln/Col through "Go to Line/Column" (1-based, as the status bar shows). */
async function goTo(page, line, column) {
  await quickInput(page, ["Control", "KeyG"], `${line}:${column}`);
  await sleep(300);
  await page.keyboard.press("Enter");
  await until(`the cursor at ${line}:${column}`, async () => (await cursor(page)).line === line);
}

async function cursor(page) {
  const text = await page.evaluate(() => document.querySelector("#status\\.editor\\.selection")?.textContent || "");
  const match = /Ln (\d+), Col (\d+)/.exec(text);
  return match ? { line: Number(match[1]), column: Number(match[2]) } : {};
}

/** The status bar's problem counts (errors, warnings, infos). */
async function statusProblems(page) {
  return page.evaluate(() => {
    const item = document.querySelector("#status\\.problems");
    if (!item) return null;
    const label = item.querySelector("[aria-label]")?.getAttribute("aria-label") || item.getAttribute("aria-label") || item.textContent;
    const number = (word) => Number((new RegExp(`${word}[^0-9]*(\\d+)`, "i").exec(label) || [0, 0])[1]);
    return { errors: number("Errors"), warnings: number("Warnings"), infos: number("Info"), label };
  });
}

/** The number on the Problems tab of the panel. */
async function panelBadge(page) {
  return page.evaluate(() => {
    for (const item of document.querySelectorAll(".part.panel .composite-bar .action-item")) {
      if ((item.textContent + (item.querySelector("[aria-label]")?.getAttribute("aria-label") || "")).toLowerCase().includes("problems")) {
        const badge = item.querySelector(".badge-content");
        return badge && badge.textContent.trim() ? Number(badge.textContent.trim()) : 0;
      }
    }
    return null;
  });
}

/** The markers the Problems panel shows (its list renders the visible rows only). */
async function panelProblems(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll(".markers-panel .monaco-list-row")];
    const markers = rows.filter((row) => row.querySelector(".marker-message-details, .marker-icon") && !row.querySelector(".resource-label, .monaco-icon-label.file-icon"));
    return markers.map((row) => row.getAttribute("aria-label") || row.textContent);
  });
}

/** The editor lines (1-based) that carry an error squiggle. */
async function squiggleLines(page) {
  return page.evaluate(() => {
    const editor = document.querySelector(".editor-group-container.active .monaco-editor");
    const numbers = [...editor.querySelectorAll(".margin-view-overlays .line-numbers")].map((n) => ({
      top: Math.round(n.getBoundingClientRect().top),
      line: Number(n.textContent),
    }));
    const lines = new Set();
    for (const squiggle of editor.querySelectorAll(".squiggly-error")) {
      const top = Math.round(squiggle.getBoundingClientRect().top);
      const row = numbers.find((n) => Math.abs(n.top - top) < 4);
      if (row) lines.add(row.line);
    }
    return [...lines].sort((a, b) => a - b);
  });
}

async function settledProblems(page, expectErrors, what) {
  return settled(what, () => statusProblems(page), (v) => v && (expectErrors === undefined ? v.errors > 0 : v.errors === expectErrors));
}

async function shot(page, name) {
  if (!args.screenshots) return;
  const folder = resolve(args.screenshots);
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, name), type: "png" });
  console.log(`screenshot ${join(folder, name)}`);
}

async function debugShot(page, name) {
  if (args.debug) await page.screenshot({ path: join(resolve(args.debug), name), type: "png" }).catch(() => {});
}

async function drive(page, url, dirs, expected) {
  await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace)}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector(".monaco-workbench .part.statusbar", { visible: true, timeout: WAIT_MS });
  mark("workbench");
  await sleep(1500); // let the workbench restore its layout before the first key

  // Diagnostics: the Problems count equals the checker's, not doubled, not missing.
  await openFile(page, "broken/default.nix");
  mark("opened");
  let problems = await settledProblems(page, undefined, "the Problems count").catch(async (error) => {
    check("the extension activated and published diagnostics", false, String(error));
    throw error;
  });
  mark("diagnostics");
  const starts = existsSync(dirs.starts) ? readFileSync(dirs.starts, "utf8").trim().split("\n").length : 0;
  check("the extension activated and started clan-lsp", starts >= 1, { starts });
  result.problems.first = problems;
  check("Problems count equals clan-lsp check (not doubled, not missing)", problems.errors === expected.errors && problems.warnings === expected.warnings, {
    status: problems.label,
    expected: expected.errors,
  });
  const drawn = await settled("the squiggles", () => squiggleLines(page));
  result.problems.squiggleLines = drawn;
  check("a squiggle on every line with a finding", JSON.stringify(drawn) === JSON.stringify(expected.lines), { drawn, expected: expected.lines });
  await keys(page, "Control", "Shift", "KeyM"); // the Problems panel
  const panel = await settled("the Problems panel", async () => ({ badge: await panelBadge(page), rows: await panelProblems(page) }), (p) => p.rows.length > 0);
  result.problems.panel = panel.badge;
  check("the Problems panel counts each finding once and shows no row twice", panel.badge === expected.count && new Set(panel.rows).size === panel.rows.length, {
    badge: panel.badge,
    rows: panel.rows.length,
    distinct: new Set(panel.rows).size,
    expected: expected.count,
  });
  await goTo(page, expected.first.line, expected.first.column);
  await shot(page, "vscode-diagnostics.png");

  // Hover on the export interface `endpoints` (line 17: `endpoints.hosts = [ instance ];`).
  const source = readFileSync(join(dirs.workspace, "broken/default.nix"), "utf8").split("\n");
  const endpointsLine = source.findIndex((l) => l.includes("endpoints.hosts")) + 1;
  await goTo(page, endpointsLine, source[endpointsLine - 1].indexOf("endpoints") + 3);
  await keys(page, "Control", "KeyK");
  await keys(page, "Control", "KeyI");
  const hover = await until("the hover", () =>
    page.evaluate(() => {
      const widget = document.querySelector(".monaco-hover:not(.hidden) .hover-contents, .monaco-hover .rendered-markdown");
      return widget && widget.textContent.trim() ? widget.textContent : null;
    }),
  ).catch(() => "");
  check("hover shows the export interface", /export interface\s*endpoints/.test(hover), hover.slice(0, 80));
  await page.keyboard.press("Escape");

  // Completion: `manifest.` typed on a new line lists the manifest's keys.
  const nameLine = source.findIndex((l) => l.includes("manifest.name")) + 1;
  await goTo(page, nameLine, source[nameLine - 1].length + 1);
  await page.keyboard.press("Enter");
  await page.keyboard.type("manifest.", { delay: 40 });
  const suggestions = () =>
    page.evaluate(() =>
      [...document.querySelectorAll(".suggest-widget.visible .monaco-list-row")].map((row) => row.querySelector(".label-name")?.textContent || ""),
    );
  const labels = await settled("the suggestion list", suggestions, (l) => l.length > 0, 20000).catch(() => []);
  result.completion = labels;
  check("completion after `manifest.` lists the manifest's keys", labels.includes("categories") && labels.includes("description"), labels);
  await shot(page, "vscode-completion.png");
  await page.keyboard.press("Escape");
  await runCommand(page, "File: Revert File");
  await sleep(500);
  await debugShot(page, "after-revert.png");
  mark("completion");

  // Go to definition on the custom export interface `vpn` in services/vpn.nix.
  await openFile(page, "services/vpn.nix");
  const vpn = readFileSync(join(dirs.workspace, "services/vpn.nix"), "utf8").split("\n");
  const useLine = vpn.findIndex((l) => l.includes("vpn.pubkey")) + 1;
  await goTo(page, useLine, vpn[useLine - 1].indexOf("vpn.pubkey") + 2);
  await page.keyboard.press("F12");
  const declaration = readFileSync(join(dirs.workspace, "flake-parts/default.nix"), "utf8").split("\n");
  const declared = declaration.findIndex((l) => l.includes("exportInterfaces.vpn")) + 1;
  const landed = await settled(
    "go to definition",
    async () => ({ path: await activePath(page), ...(await cursor(page)) }),
    (at) => at.path.startsWith("flake-parts/default.nix"),
  ).catch(() => ({}));
  check("go to definition on an export interface lands on its declaration", landed.line === declared, { landed, declared });
  await keys(page, "Control", "KeyW");
  await keys(page, "Control", "KeyW");
  mark("navigation");

  // Restart: a new server process, and the same count again (not doubled by the restart).
  await openFile(page, "broken/default.nix");
  await runCommand(page, "clan-lsp: Restart Server");
  await until("a second server start", () => existsSync(dirs.starts) && readFileSync(dirs.starts, "utf8").trim().split("\n").length >= 2).catch(() => false);
  await debugShot(page, "after-restart.png");
  const restarts = readFileSync(dirs.starts, "utf8").trim().split("\n").length;
  problems = await settledProblems(page, undefined, "the Problems count after the restart").catch(() => ({}));
  result.problems.afterRestart = problems;
  check("clan-lsp: Restart Server starts a new server with the same findings", restarts >= 2 && problems.errors === expected.errors, {
    starts: restarts,
    status: problems.label,
  });
  mark("restart");

  // A settings change: silencing a code drops exactly its findings.
  const silenced = "unknown-option";
  const dropped = expected.codes.filter((code) => code === silenced).length;
  await runCommand(page, "Preferences: Open User Settings (JSON)");
  await until("settings.json in a focused editor", async () =>
    (await activePath(page)).includes("settings.json") &&
    page.evaluate(() => Boolean(document.querySelector(".editor-group-container.active .monaco-editor.focused"))),
  );
  await keys(page, "Control", "Home");
  await keys(page, "End");
  await page.keyboard.press("Enter");
  await page.keyboard.type(`"clan-lsp.diagnostics.disabled": ["${silenced}"],`, { delay: 5 });
  await debugShot(page, "settings-typed.png");
  await keys(page, "Control", "KeyS");
  await until("settings.json saved", () => page.evaluate(() => !document.querySelector(".tabs-container .tab.active.dirty")));
  await keys(page, "Control", "KeyW");
  problems = await settledProblems(page, expected.errors - dropped, "the Problems count after disabling a code").catch(() => ({}));
  await debugShot(page, "after-setting.png");
  result.problems.afterSetting = problems;
  check(`disabling ${silenced} in the settings drops its ${dropped} findings`, problems.errors === expected.errors - dropped, { status: problems.label });
  mark("settings");
}

async function main() {
  const dirs = prepare();
  userSettings(dirs);
  const expected = expectedFindings();
  result.expected = expected;
  console.log(`expected: ${expected.count} distinct findings (${expected.errors} errors) from clan-lsp check examples/broken`);
  installExtension(dirs);
  mark("installed");
  const url = await startCodeServer(dirs);
  mark("code-server");
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: dirs.browser,
    args: [...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []), "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800", "--no-first-run"],
    defaultViewport: { width: 1280, height: 800 },
    env: { ...process.env, XDG_CONFIG_HOME: dirs["xdg-config"], XDG_CACHE_HOME: dirs["xdg-cache"] },
  });
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await drive(page, url, dirs, expected);
  } catch (error) {
    check("the drive completed", false, String(error && error.stack ? error.stack.split("\n").slice(0, 3).join(" | ") : error));
    if (args.debug) await page.screenshot({ path: join(args.debug, "failure.png") }).catch(() => {});
  }
  result.timings.total = (Date.now() - started) / 1000;
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  check("the run completed", false, String(error));
} finally {
  if (browser) await browser.close().catch(() => {});
  stopCodeServer();
  await sleep(500);
  const failed = result.checks.filter((c) => !c.ok);
  exitCode = failed.length || result.checks.length === 0 ? 1 : 0;
  if (args.result) writeFileSync(resolve(args.result), JSON.stringify(result, null, 2));
  console.log(`${result.checks.length - failed.length} passed, ${failed.length} failed`);
  if (args.keep) console.log(`kept ${temp}`);
  else rmSync(temp, { recursive: true, force: true });
}
process.exit(exitCode);
