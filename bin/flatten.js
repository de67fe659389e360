#!/usr/bin/env node
// `flatten IMAGE OUT`, exactly as people type it: the same as `stratum flatten IMAGE OUT`.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { run } = await import('../dist/cli/main.js');
run(['flatten', ...process.argv.slice(2)]);
