// README.md is a newcomer's page that links into docs/: a moved page or a renamed heading must not leave a dead link.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const LINK = /(?<!!)\[[^\]]*\]\(([^)\s]+)\)/g;

/** The lines of a Markdown file outside fenced code blocks, with their numbers. */
function prose(path: string): Array<{ line: string; number: number }> {
  let fenced = false;
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line, index) => {
      if (line.startsWith('```')) {
        fenced = !fenced;
        return [];
      }
      return fenced ? [] : [{ line, number: index + 1 }];
    });
}

/** GitHub's anchors of a file's headings: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchors(path: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const { line } of prose(path)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) {
      continue;
    }
    const text = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`/g, '')
      .toLowerCase();
    const slug = text.replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    found.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return found;
}

describe('documentation links', () => {
  it('resolves every relative link of README.md and docs/ to a file, and every anchor to a heading', () => {
    const files = [
      join(ROOT, 'README.md'),
      ...readdirSync(join(ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => join(ROOT, 'docs', name)),
    ];
    expect(files.length).toBeGreaterThan(10);
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const { line, number } of prose(file)) {
        for (const [, target] of line.matchAll(LINK)) {
          if (/^[a-z]+:/.test(target)) {
            continue;
          }
          checked += 1;
          const [path, anchor] = target.split('#');
          const destination = path === '' ? file : normalize(join(dirname(file), path));
          const where = `${relative(ROOT, file)}:${number}: ${target}`;
          if (!existsSync(destination)) {
            broken.push(`${where}: no such file`);
          } else if (anchor !== undefined && destination.endsWith('.md') && !anchors(destination).has(anchor)) {
            broken.push(`${where}: no such heading`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });
});
