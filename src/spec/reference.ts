// Image references as people type them: "busybox", "busybox:1.36", "docker.io/library/busybox:latest", "latest".

/** docker.io/library/busybox:latest for "busybox"; leaves full references alone; digests untouched. */
export function normalizeReference(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.indexOf('/');
  const first = slash === -1 ? '' : ref.slice(0, slash);
  const hasDomain = slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let name = hasDomain ? ref : `docker.io/${slash === -1 ? 'library/' : ''}${ref}`;
  const lastSlash = name.lastIndexOf('/');
  if (!name.slice(lastSlash + 1).includes(':')) name += ':latest';
  return name;
}

/** Whether a stored or archived name answers to what the user typed (exact, normalized, or tag-only). */
export function matchesReference(name: string, query: string): boolean {
  if (name === query) return true;
  // A bare tag as stored by Docker 25+ ("latest") answers only to itself.
  if (!name.includes('/') && !name.includes(':')) return false;
  return normalizeReference(name) === normalizeReference(query);
}
