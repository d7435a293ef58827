import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// README.md is the front page and docs/ the reference: a relative link in them must point at a file that exists
// and, with a #anchor into a Markdown file, at one of its headings (GitHub's slugs).

const ROOT = resolve(import.meta.dirname, '../../..');
const README_MAX_LINES = 300;
const FRESH_CLONE_COMMANDS = ['npm ci && npm start', 'npm ci && npm test'];
const COLD_START_MARKER = '<!-- cold-start figures: updated from npm run bench:cold-start -->';

interface Link {
  readonly target: string;
  readonly line: number;
}

/** The lines outside fenced code blocks, the others blanked so line numbers stay right. */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const opening = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && opening !== undefined) {
      fence = opening;
      return '';
    }
    if (fence !== undefined) {
      if (line.trimStart().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') fence = undefined;
      return '';
    }
    return line;
  });
}

/** A line without its code spans and HTML comments, whose brackets are not links. */
function withoutCode(line: string): string {
  return line.replace(/(`+)[^`]*?\1/g, ' ').replace(/<!--.*?-->/g, ' ');
}

/** GitHub's anchor for a heading: lowercased, punctuation but `-` and `_` dropped, spaces made `-`. */
function slugOf(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats get -1, -2, …) and explicit ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = slugOf(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

/** The links of a Markdown file: inline links and images, and reference definitions, outside code. */
function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  proseLines(markdown).forEach((raw, index) => {
    const line = withoutCode(raw);
    const inline = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
    for (const match of line.matchAll(inline)) {
      links.push({ target: match[1]!.replace(/^<|>$/g, ''), line: index + 1 });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(line);
    if (definition) links.push({ target: definition[1]!.replace(/^<|>$/g, ''), line: index + 1 });
  });
  return links;
}

const isAbsolute = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** What is wrong with the relative links of `files`, one line each (`file:line: target: why`); [] if nothing. */
function brokenLinks(files: readonly string[], root: string): string[] {
  const anchorCache = new Map<string, Set<string>>();
  const anchorsAt = (file: string) => {
    let anchors = anchorCache.get(file);
    if (anchors === undefined) {
      anchors = anchorsOf(readFileSync(file, 'utf8'));
      anchorCache.set(file, anchors);
    }
    return anchors;
  };
  const problems: string[] = [];
  for (const file of files) {
    for (const { target, line } of linksOf(readFileSync(file, 'utf8'))) {
      if (isAbsolute(target)) continue;
      const where = `${relative(root, file)}:${line}: ${target}`;
      const hash = target.indexOf('#');
      const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const resolved = path === '' ? file : resolve(dirname(file), path);
      if (!existsSync(resolved)) {
        problems.push(`${where}: no such file`);
        continue;
      }
      if (anchor === undefined || !resolved.endsWith('.md') || !statSync(resolved).isFile()) continue;
      if (!anchorsAt(resolved).has(anchor)) {
        problems.push(`${where}: no heading with the anchor #${anchor} in ${relative(root, resolved)}`);
      }
    }
  }
  return problems;
}

const docsPages = () =>
  readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(ROOT, 'docs', name));

describe('the link checker', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
    writeFileSync(
      join(dir, 'a.md'),
      [
        '# Page A',
        '',
        'See [a missing page](missing.md), [a missing heading](b.md#no-such-heading),',
        '[a heading](b.md#maxconnections-across-containers), [the second Notes](b.md#notes-1),',
        '[this page](#page-a), [a wrong anchor here](#nowhere), [a site](https://example.com/nothing.md),',
        '[mail](mailto:someone@example.com) and the folder [sub](sub/).',
        '',
        'Not links: `[code](missing-in-code.md)` and',
        '',
        '```md',
        '[fenced](missing-in-fence.md)',
        '```',
        '',
        '[ref]: missing-by-reference.md',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'b.md'),
      ['# Page B', '', '## `MaxConnections` across containers', '', '## Notes', '', '## Notes', ''].join(
        '\n',
      ),
    );
    writeFileSync(join(dir, 'c.md'), 'Nothing broken: [B](b.md), [its notes](./b.md#notes).\n');
    mkdirSync(join(dir, 'sub'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file, a missing anchor in another page and in the same page, and nothing else', () => {
    expect(brokenLinks([join(dir, 'a.md'), join(dir, 'c.md')], dir)).toEqual([
      'a.md:3: missing.md: no such file',
      'a.md:3: b.md#no-such-heading: no heading with the anchor #no-such-heading in b.md',
      'a.md:5: #nowhere: no heading with the anchor #nowhere in a.md',
      'a.md:14: missing-by-reference.md: no such file',
    ]);
  });

  it('slugs headings as GitHub does', () => {
    expect(slugOf('`MaxConnections` across containers')).toBe('maxconnections-across-containers');
    expect(slugOf('WebSocket `$connect` authorizer')).toBe('websocket-connect-authorizer');
    expect(slugOf('Channels, users, webhooks')).toBe('channels-users-webhooks');
    expect(slugOf("What's new? (2.0)")).toBe('whats-new-20');
    expect(slugOf('A -- B')).toBe('a----b');
    expect(slugOf('Keep `snake_case`')).toBe('keep-snake_case');
    expect(slugOf('See [the item](apps-table.md#the-item)')).toBe('see-the-item');
  });

  it('numbers repeated headings and ignores headings in code', () => {
    const anchors = anchorsOf('# Notes\n\n## Notes\n\n```\n# Not a heading\n```\n');
    expect([...anchors]).toEqual(['notes', 'notes-1']);
  });
});

describe('README.md and docs/', () => {
  const readme = join(ROOT, 'README.md');
  const readmeText = readFileSync(readme, 'utf8');

  it('have no relative link that points at nothing', () => {
    expect(docsPages().length).toBeGreaterThan(0);
    expect(brokenLinks([readme, ...docsPages()], ROOT)).toEqual([]);
  });

  it(`keep README.md a front page of at most ${README_MAX_LINES} lines`, () => {
    expect(readmeText.replace(/\n$/, '').split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('give the two commands for a fresh clone, verbatim', () => {
    for (const command of FRESH_CLONE_COMMANDS) expect(readmeText).toContain(command);
  });

  it('map every docs/ page from README.md', () => {
    const linked = new Set(
      linksOf(readmeText)
        .filter(({ target }) => !isAbsolute(target))
        .map(({ target }) => resolve(ROOT, decodeURIComponent(target.split('#')[0]!))),
    );
    expect(
      docsPages()
        .filter((page) => !linked.has(page))
        .map((page) => relative(ROOT, page)),
    ).toEqual([]);
  });

  it("list every room of src/ in README.md's project layout", () => {
    const rooms = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `src/${entry.name}/`);
    expect(rooms.filter((room) => !readmeText.includes(`| \`${room}\` |`))).toEqual([]);
  });

  it('keep the marker that bench:cold-start figures are pasted under, right above the figures', () => {
    const lines = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8').split('\n');
    const marker = lines.indexOf(COLD_START_MARKER);
    expect(marker).toBeGreaterThan(-1);
    expect(lines[marker + 1]).toMatch(/^```/);
  });
});
