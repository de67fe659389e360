// How a user's --image text matches the names an archive records (RepoTags "busybox:latest",
// ref.name "latest" or a full reference, io.containerd.image.name "docker.io/library/busybox:latest").
import { matchesReference } from '../spec/reference.js';

/** The explicit tag of a full name ("busybox:1.36" → "1.36"), if it has one. */
function tagOf(name: string): string | undefined {
  const noDigest = name.split('@')[0];
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(colon + 1) : undefined;
}

/** Whether the user's text names an image recorded under `name`; a bare word also matches a name's tag. */
export function nameMatches(wanted: string, name: string): boolean {
  if (matchesReference(name, wanted)) return true;
  return !/[/:@]/.test(wanted) && tagOf(name) === wanted;
}
