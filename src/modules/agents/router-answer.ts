/** The agent every unclear or disallowed routing answer falls back to. */
export const FALLBACK_AGENT = 'task_agent';

/**
 * Reads the router model's answer: one agent name, or several separated by
 * commas (a pipeline, in order). Quotes, backticks, a trailing full stop and
 * case are forgiven; anything else — an unknown name, one the tier may not
 * use, a repeated name, more names than agents, prose — falls back to
 * FALLBACK_AGENT alone.
 */
export function parseRouterAnswer(answer: string, allowed: readonly string[]): string[] {
  const names = answer
    .trim()
    .replace(/^["'`]+|["'`.]+$/g, '')
    .split(',')
    .map((part) =>
      part
        .trim()
        .replace(/^["'`]+|["'`.]+$/g, '')
        .toLowerCase(),
    );
  const valid =
    names.length > 0 &&
    names.length <= allowed.length &&
    new Set(names).size === names.length &&
    names.every((name) => allowed.includes(name));
  return valid ? names : [FALLBACK_AGENT];
}
