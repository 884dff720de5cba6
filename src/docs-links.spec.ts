import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The README and docs/ as a newcomer follows them (issue 34): every relative link and #anchor
 * resolves inside the repository (a clone has nothing beside it), every docs page is linked from
 * the README, and the README stays a front page.
 */
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced blocks, where headings are headings. */
function outsideFences(text: string): string {
  return text.replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, '');
}

/** The text outside fenced blocks and inline code, where links are links. */
function prose(text: string): string {
  return outsideFences(text).replace(/`[^`\n]*`/g, '');
}

/**
 * GitHub's heading anchors: lowercased, punctuation dropped (inline code keeps its text, its
 * backticks go), spaces to dashes, repeats numbered.
 */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of outsideFences(readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Every [text](target) and <a href> of a page, external ones excluded. */
function relativeLinks(page: string): string[] {
  const text = prose(readFileSync(join(ROOT, page), 'utf8'));
  const targets = [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...text.matchAll(/href="([^"]+)"/g)];
  return targets.map((m) => m[1]).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** Why `link` on `page` does not resolve, or undefined when it does. */
function brokenLink(page: string, link: string): string | undefined {
  const [path, anchor] = link.split('#');
  const target = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURI(path));
  if (relative(ROOT, target).startsWith('..')) return 'points outside the repository';
  if (!existsSync(target)) return 'no such file';
  if (anchor === undefined || statSync(target).isDirectory() || !target.endsWith('.md')) return undefined;
  return anchors(target).has(anchor) ? undefined : `no heading #${anchor}`;
}

describe('README and docs links', () => {
  it.each(PAGES)('every relative link of %s resolves inside the repository', (page) => {
    const broken = relativeLinks(page)
      .map((link) => [link, brokenLink(page, link)])
      .filter(([, why]) => why !== undefined)
      .map(([link, why]) => `${link}: ${why}`);
    expect(broken).toEqual([]);
  });

  it('links every docs page from the README, which stays under 250 lines', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const linked = new Set(relativeLinks('README.md').map((l) => l.split('#')[0]));
    expect(PAGES.filter((p) => p !== 'README.md' && !linked.has(p))).toEqual([]);
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('names no file outside the repository, in links or in prose', () => {
    for (const page of PAGES)
      expect([page, readFileSync(join(ROOT, page), 'utf8')]).not.toContainEqual(
        expect.stringMatching(/\.\.\/shared\//),
      );
  });
});
