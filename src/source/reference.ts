// How a user's --image text matches the names an archive records (RepoTags "busybox:latest",
// ref.name "latest" or a full reference, io.containerd.image.name "docker.io/library/busybox:latest").
import { matchesReference } from '../spec/reference.js';

/** The explicit tag of a full name ("busybox:1.36" → "1.36"), if it has one. */
function tagOf(name: string): string | undefined {
  const noDigest = name.split('@')[0];
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(colon + 1) : undefined;
}

/** The name itself, or the same reference written another way ("busybox" = "docker.io/library/busybox:latest"). */
export function nameMatches(wanted: string, name: string): boolean {
  return matchesReference(name, wanted);
}

/** A bare word ("latest", "3.14") against the tag of a full name: the loosest match, tried last. */
export function tagMatches(wanted: string, name: string): boolean {
  return !/[/:@]/.test(wanted) && tagOf(name) === wanted;
}
