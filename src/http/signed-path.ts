/**
 * The path a Pusher client signed, from the path API Gateway reports: HTTP APIs on a named stage put
 * `/<stage>` in front of the route path, and clients sign the route path. (Percent-escapes are decoded by
 * `verifyRawRequest`.)
 */
export function signedPath(rawPath: string, stage: string | undefined): string {
  if (stage && stage !== '$default' && rawPath.startsWith(`/${stage}/`))
    return rawPath.slice(stage.length + 1);
  return rawPath;
}
