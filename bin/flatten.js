#!/usr/bin/env node
// `flatten IMAGE OUT`, exactly as people type it: the same as `stratum flatten IMAGE OUT`.
const { run } = await import('../dist/bin/stratum.js');
run(['flatten', ...process.argv.slice(2)]);
