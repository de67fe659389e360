#!/usr/bin/env node
const { run } = await import('../dist/cli/main.js');
run(process.argv.slice(2));
