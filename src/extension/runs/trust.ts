// Restricted Mode: whatever a workspace's run folders say (a queued job, a pid, a path), nothing in
// it is started, signalled or deleted until the user trusts the folder. The package.json `when`
// clauses only hide menu items; every entry point checks here too, since commands can be run
// from anywhere (keybindings, other extensions, tests).
import * as vscode from 'vscode';

export interface TrustAction {
  title: string;
  run: () => void;
}

export const MANAGE_TRUST: TrustAction = {
  title: 'Manage Workspace Trust',
  run: () => void vscode.commands.executeCommand('workbench.trust.manage'),
};

/**
 * The one-line refusal for `what` (a command title) in an untrusted workspace, saying why and the
 * fix; undefined when the workspace is trusted.
 */
export function trustRefusal(what: string, toWhat: string, why: string): string | undefined {
  if (vscode.workspace.isTrusted) return undefined;
  return `Fast AdvProp: ${what} is disabled because this workspace is not trusted (Restricted Mode): ${why}. Trust this workspace to ${toWhat}: "Manage Workspace Trust" (the button here, or the command "Workspaces: Manage Workspace Trust"), then "Trust". Viewing runs works without trust.`;
}
