#!/usr/bin/env node
const { run } = await import('../dist/bin/stratum.js');
run(process.argv.slice(2));
