// Pure configuration logic (no `vscode` import), so Node's test runner can test it.
import * as fs from "fs";
import * as path from "path";

export interface Settings {
  command: string;
  pythonPath: string;
  diagnosticsRun: "onType" | "onSave";
  disabled: string[];
  clanDate: string | null;
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

export const DOCUMENT_SELECTOR = [
  { scheme: "file", language: "nix" },
  { scheme: "untitled", language: "nix" },
];

/** Files whose changes the server's workspace index must hear about. */
export const WATCHED_FILES = "**/{*.nix,flake.lock}";

type Getter = <T>(key: string, fallback: T) => T;

export function readSettings(get: Getter): Settings {
  const run = get<string>("diagnostics.run", "onType");
  return {
    command: get<string>("server.command", "clan-lsp") || "clan-lsp",
    pythonPath: get<string>("server.pythonPath", "") || "",
    diagnosticsRun: run === "onSave" ? "onSave" : "onType",
    disabled: get<string[]>("diagnostics.disabled", []) || [],
    clanDate: get<string | null>("clanDate", null) || null,
  };
}

/** How to start the server: `python -m clan_lsp --stdio` when a Python is set, else the command. */
export function serverLaunch(settings: Settings): ServerLaunch {
  if (settings.pythonPath) {
    return { command: settings.pythonPath, args: ["-m", "clan_lsp", "--stdio"] };
  }
  return { command: settings.command, args: ["--stdio"] };
}

/** What the server reads as initializationOptions (and workspace/didChangeConfiguration). */
export function initializationOptions(settings: Settings): object {
  return {
    diagnostics: { run: settings.diagnosticsRun, disabled: settings.disabled },
    clanDate: settings.clanDate,
  };
}

/** The executable's full path, or undefined when it cannot be found. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const isFile = (candidate: string) => {
    try {
      return fs.statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes("/") || command.includes("\\")) {
    return isFile(command) ? command : undefined;
  }
  const extensions = process.platform === "win32" ? (env.PATHEXT || ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH || "").split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = path.join(dir, command + ext);
      if (isFile(candidate)) return candidate;
    }
  }
  return undefined;
}

export function notFoundMessage(launch: ServerLaunch): string {
  return (
    `clan-lsp: cannot find the server \`${launch.command}\`. Install it with \`pip install clan-lsp\` ` +
    "(or `pip install .` in a clone), or set `clan-lsp.server.command` to its full path, " +
    "or `clan-lsp.server.pythonPath` to a Python that has it."
  );
}
