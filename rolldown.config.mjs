// The CLI as a few files instead of ~40 modules: Node 20's ESM loader spends ~1 ms per module, and a flatten from
// the store is over in half a second (bench/README.md, "Node's start"). The library (dist/index.js) stays unbundled.
// The helper thread's entry sits beside the chunk that starts it, where helper-thread.ts looks for it.
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: { stratum: 'dist/cli/main.js', 'leaf-worker': 'dist/write/leaf-worker.js' },
  platform: 'node',
  output: { dir: 'dist/bin', format: 'esm', chunkFileNames: '[name]-[hash].js', cleanDir: true },
});
