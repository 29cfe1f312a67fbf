// VS Code glue: start clan-lsp over stdio for Nix files; restart command; clear error when missing.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";
import {
  DOCUMENT_SELECTOR,
  WATCHED_FILES,
  findExecutable,
  initializationOptions,
  notFoundMessage,
  readSettings,
  serverLaunch,
} from "./config";

const SECTION = "clan-lsp";
let client: LanguageClient | undefined;

function settings() {
  const configuration = vscode.workspace.getConfiguration(SECTION);
  return readSettings((key, fallback) => configuration.get(key, fallback));
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const current = settings();
  const launch = serverLaunch(current);
  if (!findExecutable(launch.command)) {
    const choice = await vscode.window.showErrorMessage(notFoundMessage(launch), "Open Settings");
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", SECTION);
    }
    return;
  }
  const serverOptions: ServerOptions = {
    run: { command: launch.command, args: launch.args, transport: TransportKind.stdio },
    debug: { command: launch.command, args: launch.args, transport: TransportKind.stdio },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    initializationOptions: initializationOptions(current),
    // the server's workspace index follows files changed outside the editor
    synchronize: { configurationSection: SECTION, fileEvents: vscode.workspace.createFileSystemWatcher(WATCHED_FILES) },
  };
  client = new LanguageClient(SECTION, "clan-lsp", serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

async function stop(): Promise<void> {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("clan-lsp.restartServer", async () => {
      await stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      // where the server comes from needs a restart; other settings travel as didChangeConfiguration
      if (event.affectsConfiguration(`${SECTION}.server`)) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}

/** For tests: the running client. */
export function currentClient(): LanguageClient | undefined {
  return client;
}
