import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * Loads a part of the extension (a bundle next to this one) at its first use. Until then every
 * contributed command has a stand-in: the first call loads the part, which registers the real
 * commands, and is forwarded to the real one. Activation stays a few registrations (issue 21).
 */
export class FirstUse<T> implements vscode.Disposable {
  private loaded: T | undefined;
  private standIns: vscode.Disposable[] = [];

  constructor(
    private readonly load: () => T,
    private readonly commandIds: readonly string[],
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.registerStandIns();
  }

  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  /** The part, loaded now if it was not yet (synchronously: a `require()` of its bundle). */
  get(): T {
    if (this.loaded) return this.loaded;
    // The part registers the real commands under the same ids.
    this.disposeStandIns();
    try {
      this.loaded = this.load();
    } catch (error) {
      this.registerStandIns();
      throw error;
    }
    return this.loaded;
  }

  dispose(): void {
    this.disposeStandIns();
  }

  private registerStandIns(): void {
    for (const id of this.commandIds) {
      try {
        this.standIns.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.forward(id, args)));
      } catch {
        // Registered by a part that failed half-way through loading: the real command stays.
      }
    }
  }

  private forward(id: string, args: unknown[]): unknown {
    try {
      this.get();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`${id}: Warden could not load: ${message}`);
      void vscode.window.showErrorMessage(`Warden could not load (${message}); see the Warden output.`);
      return undefined;
    }
    return vscode.commands.executeCommand(id, ...args);
  }

  private disposeStandIns(): void {
    for (const standIn of this.standIns.splice(0)) standIn.dispose();
  }
}

/** A bundle next to the running one (dist/), loaded with require(): the extension host loads CommonJS. */
export function requireBundle<T>(file: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at first use, not at activation (see FirstUse)
  return require(path.join(__dirname, file)) as T;
}

/** The parts of package.json activation reads; checked by hand so activation does not load zod for it. */
export interface Manifest {
  /** Every contributed command id. */
  commands: string[];
  /** `onWebviewPanel:<viewType>` activation events. */
  webviewPanels: string[];
  /** `workspaceContains:<pattern>` activation events. */
  workspaceContains: string[];
}

export function readManifest(packageJSON: unknown): Manifest {
  const manifest = isRecord(packageJSON) ? packageJSON : {};
  const contributes = isRecord(manifest.contributes) ? manifest.contributes : {};
  const commands = Array.isArray(contributes.commands) ? contributes.commands : [];
  const events = Array.isArray(manifest.activationEvents) ? manifest.activationEvents.filter((e) => typeof e === 'string') : [];
  const after = (prefix: string): string[] => events.filter((e) => e.startsWith(prefix)).map((e) => e.slice(prefix.length));
  return {
    commands: commands.flatMap((c) => (isRecord(c) && typeof c.command === 'string' ? [c.command] : [])),
    webviewPanels: after('onWebviewPanel:'),
    workspaceContains: after('workspaceContains:'),
  };
}

/**
 * Whether Warden has work as soon as it activates, for the same reasons the manifest's
 * activation events give: a Warden panel VS Code restores (its serializer is in the part loaded
 * at first use; VS Code keeps the panel until one registers), or a workspace file Warden reads at
 * start (the team policy, whose diagnostics show at once; proposals saved by an earlier window).
 */
export function neededAtStart(manifest: Manifest): boolean {
  const restoring = vscode.window.tabGroups.all.some((group) =>
    group.tabs.some((tab) => manifest.webviewPanels.some((viewType) => isWebviewOf(tab.input, viewType))),
  );
  if (restoring) return true;
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  // `.warden/proposals/*.json` is checked as `.warden/proposals/`: one stat, no directory listing.
  const paths = manifest.workspaceContains.map((pattern) => pattern.split('*')[0]!);
  return folders.some((folder) => paths.some((p) => existsSync(path.join(folder.uri.fsPath, p))));
}

function isWebviewOf(input: unknown, viewType: string): boolean {
  // The tab's viewType carries a prefix (`mainThreadWebview-warden.review`).
  return input instanceof vscode.TabInputWebview && input.viewType.endsWith(viewType);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
