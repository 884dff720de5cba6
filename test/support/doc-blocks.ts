import { readFileSync } from 'node:fs';

/** A fenced code block of a Markdown page. */
export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The reason of a `<!-- not-run: reason -->` comment just before the fence, if any. */
  notRun?: string;
}

const FENCE = /^(\s*)```\s*([\w-]*)\s*$/;
const NOT_RUN = /^<!--\s*not-run:\s*(.*?)\s*-->$/;

/** Every fenced block of `file`, with its language and its not-run marker. */
export function docBlocks(file: string): DocBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  let lastText = '';
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) {
      if (lines[i].trim() !== '') lastText = lines[i].trim();
      continue;
    }
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
    blocks.push({
      file,
      line: i + 1,
      lang: open[2],
      code: body.join('\n') + '\n',
      notRun: NOT_RUN.exec(lastText)?.[1],
    });
    lastText = '';
    i = j;
  }
  return blocks;
}

/** Shell blocks: the ones the walkthrough runs (those not marked not-run). */
export const isShell = (b: DocBlock): boolean => b.lang === 'sh' || b.lang === 'bash';

/** The docs pages in the order the README links them (the walkthrough's order). */
export function docsInReadmeOrder(readme = 'README.md'): string[] {
  const text = readFileSync(readme, 'utf8');
  const pages = [...text.matchAll(/\]\((docs\/[\w-]+\.md)(?:#[\w-]*)?\)/g)].map((m) => m[1]);
  return [...new Set(pages)];
}

/** `NAME=value`, the value a word or one `$(…)`. */
const ASSIGNMENT = /([A-Z_]+)=(\$\([^)]*\)|\S+)/;

/**
 * The variables the README starts the walkthrough server with: its line `NAME=value … npm start`
 * (values as written; `$(…)` ones are left to the caller, e.g. DATA_DIR).
 */
export function walkthroughServerEnv(readme = 'README.md'): Record<string, string> {
  const line = readFileSync(readme, 'utf8')
    .split('\n')
    .find((l) => new RegExp(`^(${ASSIGNMENT.source}\\s+)+npm start\\s*$`).test(l));
  if (!line) throw new Error('README.md has no "NAME=value … npm start" line for the walkthrough');
  const env: Record<string, string> = {};
  for (const m of line.matchAll(new RegExp(ASSIGNMENT.source, 'g'))) env[m[1]] = m[2];
  return env;
}
