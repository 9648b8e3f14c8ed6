#!/usr/bin/env node
// `npm run package`: a platform-specific .vsix (vsce --target) for the machine it runs on, because
// dist/dawn/ holds only this platform's Dawn binary (the GPU backend); VS Code's marketplace
// serves each user the package of their own platform.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = { 'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'darwin-x64': 'darwin-x64', 'darwin-arm64': 'darwin-arm64', 'win32-x64': 'win32-x64', 'win32-arm64': 'win32-arm64' };
const target = TARGETS[`${process.platform}-${process.arch}`];
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '-o', 'dist/fast-advprop.vsix'];
if (target) args.push('--target', target);
else console.log(`package: no vsce target for ${process.platform}-${process.arch}; building a universal package without a GPU binary`);
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
