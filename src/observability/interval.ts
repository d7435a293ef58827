/**
 * Says when a per-container periodic report is due. Lambda has no timer that outlives an invocation, so a
 * report rides on the first invocation after each interval; a container's last interval is therefore never
 * reported, and a container that lives less than one interval never reports.
 */
export function everyInterval(intervalMs: number, now: () => number = Date.now): () => number | undefined {
  let last = now();
  return () => {
    const at = now();
    if (at - last < intervalMs) return undefined;
    last = at;
    return at;
  };
}
