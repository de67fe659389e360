// Names inside an outer image archive (manifest.json paths, tar entry names, symlink targets).
// They are looked up, never joined to a host path, and a name that climbs above the archive root
// has no meaning at all (EDGE #120) rather than being clamped like a layer entry.

/**
 * Cleans an archive name: strips leading '/' and './', collapses '//' and '.', resolves '..'
 * lexically. Returns undefined when the name leaves the archive root; '' is the root.
 */
export function cleanArchiveName(name: string): string | undefined {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

/** Where a symlink stored at `linkName` points, as an archive name (absolute targets start at the archive root). */
export function symlinkTarget(linkName: string, target: string): string | undefined {
  if (target.startsWith('/')) return cleanArchiveName(target);
  const slash = linkName.lastIndexOf('/');
  const dir = slash < 0 ? '' : linkName.slice(0, slash);
  return cleanArchiveName(dir ? `${dir}/${target}` : target);
}
