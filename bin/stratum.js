#!/usr/bin/env node
// More libuv threads: the writer keeps many small file writes in flight. Must be set before any fs call.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { run } = await import('../dist/cli/main.js');
run(process.argv.slice(2));
