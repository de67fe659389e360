#!/usr/bin/env node
// bench/cpuprofile-summary.mjs — self time per function and per source file of a V8 .cpuprofile
// (from `node --cpu-prof`). Only the main thread is profiled: the libuv pool's file I/O and zlib's
// inflate run on other threads and show up here as "(idle)" or as the JS that waits for them.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/stratum.js flatten --store S IMAGE OUT
//   node bench/cpuprofile-summary.mjs /tmp/prof/*.cpuprofile [--top 25]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, table } from './lib.mjs';

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
const TOP = Number(values.top);
for (const file of positionals) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // timeDeltas[i] is the time before samples[i]; attribute it to that sample's node
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnTimes = new Map();
  const fileTimes = new Map();
  for (const [id, us] of self) {
    const { callFrame: cf } = byId.get(id);
    const url = cf.url.replace(/^file:\/\//, '').replace(/^.*\/dist\//, 'dist/').replace(REPO + '/', '');
    const fn = `${cf.functionName || '(anonymous)'} ${url ? `${path.basename(url)}:${cf.lineNumber + 1}` : ''}`.trim();
    fnTimes.set(fn, (fnTimes.get(fn) ?? 0) + us);
    const where = url ? (url.startsWith('node:') ? url : url.includes('node_modules') ? `node_modules/${url.split('node_modules/')[1].split('/')[0]}` : url) : cf.functionName;
    fileTimes.set(where, (fileTimes.get(where) ?? 0) + us);
  }
  const rows = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, us]) => [k, `${(us / 1000).toFixed(0)} ms`, `${((100 * us) / total).toFixed(1)}%`]);
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled on the main thread\n\n`);
  process.stdout.write(table(['self time by file', 'ms', '%'], rows(fileTimes), 'lrr') + '\n\n');
  process.stdout.write(table(['self time by function', 'ms', '%'], rows(fnTimes), 'lrr') + '\n\n');
}
