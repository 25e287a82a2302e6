/**
 * Small glob matchers with no dependency, so the branch guard and the scope check behave the
 * same in the extension, the CLI and tests.
 */

const cache = new Map<string, RegExp>();

/**
 * A branch glob as a user writes it in a policy (`main`, `release/*`). `*` matches any run of
 * characters including `/`: `release/*` also protects `release/1.2/hotfix` (failing closed).
 * `refs/heads/` prefixes on either side are ignored.
 */
export function matchesBranchGlob(branch: string, glob: string): boolean {
  return regexFor(`b:${stripHeads(glob)}`, stripHeads(glob), true).test(stripHeads(branch));
}

/**
 * A path pattern (forward slashes, relative to the workspace folder): `*` and `?` stay inside one
 * segment, `**` crosses segments, `{a,b}` alternates, a trailing `/` means "this folder and
 * everything under it", and a pattern without `/` matches the name at any depth (as .gitignore).
 */
export function matchesPathGlob(relativePath: string, pattern: string): boolean {
  let p = pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '');
  if (p.endsWith('/')) p = `${p}**`;
  if (!p.includes('/')) p = `**/${p}`;
  if (p.startsWith('/')) p = p.slice(1);
  return regexFor(`p:${p}`, p, false).test(relativePath.replace(/\\/g, '/').replace(/^\.\//, ''));
}

function stripHeads(name: string): string {
  return name.trim().replace(/^refs\/heads\//, '');
}

function regexFor(key: string, glob: string, starCrossesSlash: boolean): RegExp {
  const cached = cache.get(key);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` also matches zero folders; a trailing `**` matches everything below.
        if (glob[i + 2] === '/') {
          source += '(?:.*/)?';
          i += 2;
        } else {
          source += '.*';
          i += 1;
        }
      } else {
        source += starCrossesSlash ? '.*' : '[^/]*';
      }
    } else if (c === '?') {
      source += starCrossesSlash ? '.' : '[^/]';
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) {
        source += '\\{';
      } else {
        source += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map(escape)
          .join('|')})`;
        i = end;
      }
    } else {
      source += escape(c);
    }
  }
  const regex = new RegExp(`^${source}$`);
  cache.set(key, regex);
  return regex;
}

function escape(text: string): string {
  return text.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}
