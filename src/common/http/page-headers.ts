import type { Request, Response } from 'express';

/**
 * Paging of a list whose body is a plain JSON array (the shape clients of the earlier API already parse):
 * the total goes in `X-Total-Count` and, when there is a page after this one,
 * `Link: <same URL with page+1>; rel="next"` (relative to the request, RFC 8288).
 */
export function setPageHeaders(
  req: Request,
  res: Response,
  { page, limit, total }: { page: number; limit: number; total: number },
): void {
  res.setHeader('X-Total-Count', String(total));
  if (page * limit >= total) return;
  const next = new URL(req.originalUrl, 'http://localhost');
  next.searchParams.set('page', String(page + 1));
  next.searchParams.set('limit', String(limit));
  res.setHeader('Link', `<${next.pathname}${next.search}>; rel="next"`);
}
