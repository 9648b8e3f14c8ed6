// #18's reading target: a 50 MB TensorBoard event file read in under 1 s. Builds one in the temp
// folder from the real-writer fixture's records (test/fixtures/foreign/reference-run: one small
// scalar record per tag and epoch, the worst case per byte), times `fast-advprop read-events` on
// it three times and deletes it. Usage: node scripts/bench-events.mjs [MB]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const mb = Number(process.argv[2] ?? 50);
const fixture = path.join(repo, 'test/fixtures/foreign/reference-run');
const src = fs.readFileSync(path.join(fixture, fs.readdirSync(fixture).find((n) => n.startsWith('events.out.tfevents.'))));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-events-'));
const file = path.join(dir, 'events.out.tfevents.1700000000.bench');
try {
  const fd = fs.openSync(file, 'w');
  for (let n = 0; n < mb * 1024 * 1024; n += src.length) fs.writeSync(fd, src);
  fs.closeSync(fd);
  for (let i = 0; i < 3; i++) {
    process.stdout.write(execFileSync(process.execPath, [path.join(repo, 'dist/cli.js'), 'read-events', file], { encoding: 'utf8' }));
  }
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
