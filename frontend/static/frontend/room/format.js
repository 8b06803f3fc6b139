/* How the room writes numbers for people. Pure. */

/** A file's size as the chat shows it: whole KB below 1 MB (at least 1), MB with one decimal above. */
export function fileSize(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}
