// The diff verb: compare two images' layers, final filesystems, config, history and packages.
export { diffImages, type DiffOptions, type SideOptions } from './diff-images.js';
export { diffFiles, compareNodes, type FileDiffOptions, type FileDiff } from './files.js';
export { diffLayers } from './layers.js';
export { diffConfigs } from './config.js';
export { diffHistory } from './history.js';
export { diffPackages, comparePackages, ECOSYSTEMS, type PackageEcosystem } from './packages/index.js';
export { diffContent, unifiedDiff } from './content.js';
export { compileGlob, compileGlobs } from './glob.js';
export { labelsFor, layerCommands } from './attribution.js';
export * from './types.js';
