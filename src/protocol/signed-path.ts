/**
 * The path a Pusher client signed, from the path API Gateway reports. Clients sign `/apps/{appId}/...`; what
 * comes before it (the `/<stage>` of a named HTTP API stage, a custom domain's base path mapping) is not
 * theirs. The signed path starts at the last `/apps/{appId}/` (channel names and user ids cannot contain `/`).
 * Percent-escapes are left for `verifyRawRequest` to decode.
 */
export function signedPath(rawPath: string, appId: string): string {
  let start = -1;
  for (const form of new Set([appId, encodeURIComponent(appId)])) {
    start = Math.max(start, rawPath.lastIndexOf(`/apps/${form}/`));
  }
  return start > 0 ? rawPath.slice(start) : rawPath;
}

/**
 * A signed path percent-decoded, as the verifier decodes it (route matching, channel names). A malformed
 * escape fails verification before any caller gets here; it is returned as is.
 */
export function decodedPath(path: string): string {
  try {
    return path.includes('%') ? decodeURIComponent(path) : path;
  } catch {
    return path;
  }
}
