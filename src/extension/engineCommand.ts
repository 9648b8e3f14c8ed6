// The engine command lines the extension runs, and how it signals them. No vscode import: the
// argument building and the signalling are unit tested against real processes.
import * as path from 'node:path';
import type { BackendName } from '../shared/config';

export interface EngineFlags {
  backend: BackendName;
  workers: number;
}

/** Settings override the config only when set away from their defaults (auto, 0). */
function flagArgs(flags: EngineFlags): string[] {
  const out: string[] = [];
  if (flags.backend && flags.backend !== 'auto') out.push('--backend', flags.backend);
  if (flags.workers > 0) out.push('--workers', String(flags.workers));
  return out;
}

export function trainArgs(cli: string, configFile: string, runDir: string, flags: EngineFlags): string[] {
  return [cli, 'train', '--config', configFile, '--run-dir', runDir, ...flagArgs(flags)];
}

export function resumeArgs(cli: string, runDir: string, flags: EngineFlags): string[] {
  return [cli, 'train', '--resume', runDir, ...flagArgs(flags)];
}

export function evaluateArgs(cli: string, runDir: string, opts: { corruptions?: string[]; severities?: number[]; pgd?: string } = {}): string[] {
  const args = [cli, 'evaluate', '--run', runDir];
  if (opts.corruptions?.length) args.push('--corruptions', opts.corruptions.join(','));
  if (opts.severities?.length) args.push('--severities', opts.severities.join(','));
  if (opts.pgd) args.push('--pgd', opts.pgd);
  return args;
}

export function cliPath(extensionPath: string): string {
  return path.join(extensionPath, 'dist', 'cli.js');
}

/**
 * Runs the engine with the host's own runtime (Electron in desktop VS Code, node in code-server),
 * and tells it a UI launched it, so its log hints at the UI's actions rather than at a CLI that a
 * .vsix user does not have.
 */
export function engineEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ELECTRON_RUN_AS_NODE: '1', FAST_ADVPROP_UI: 'vscode' };
}

/** SIGKILL to the whole process group (the engine's worker threads and anything it spawned). */
export function killGroup(pid: number): boolean {
  if (process.platform !== 'win32') {
    try {
      process.kill(-pid, 'SIGKILL');
      return true;
    } catch {
      // Not a group leader (started elsewhere without its own group): kill the process alone.
    }
  }
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

export function sendTerm(pid: number): boolean {
  // On Windows SIGTERM is a hard kill; there the stop.request file is the polite signal.
  if (process.platform === 'win32') return false;
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}

/** The last lines of engine output, for an error message. */
export function tailLines(text: string, n = 8): string {
  const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
  return lines.slice(-n).join('\n');
}
