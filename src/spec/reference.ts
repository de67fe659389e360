// Image references as people type them: "busybox", "busybox:1.36", "docker.io/library/busybox:latest", "latest".

/** docker.io/library/busybox:latest for "busybox"; leaves full references alone; digests untouched. */
export function normalizeReference(ref: string): string {
  if (ref.includes('@')) return ref;
  let name = hasDomain(ref) ? ref : `docker.io/${ref.includes('/') ? '' : 'library/'}${ref}`;
  const lastSlash = name.lastIndexOf('/');
  if (!name.slice(lastSlash + 1).includes(':')) name += ':latest';
  return name;
}

/** Whether a stored or archived name answers to what the user typed (exact, normalized, or tag-only). */
export function matchesReference(name: string, query: string): boolean {
  if (name === query) return true;
  // A bare tag as stored by Docker 25+ ("latest") answers only to itself.
  if (!name.includes('/') && !name.includes(':')) return false;
  if (normalizeReference(name) === normalizeReference(query)) return true;
  // A query without a registry also names the same path in any registry: podman and buildah save
  // "localhost/app:v2", and people type "app:v2". Several matches are listed by the selector, not guessed.
  return !hasDomain(query) && !query.includes('@') && pathOf(normalizeReference(name)) === withTag(query);
}

function hasDomain(ref: string): boolean {
  const slash = ref.indexOf('/');
  const first = slash === -1 ? '' : ref.slice(0, slash);
  return slash !== -1 && (first.includes('.') || first.includes(':') || first === 'localhost');
}

/** The repository path and tag of a normalized reference, its registry dropped. */
function pathOf(normalized: string): string {
  return normalized.slice(normalized.indexOf('/') + 1);
}

function withTag(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1).includes(':') ? ref : `${ref}:latest`;
}
