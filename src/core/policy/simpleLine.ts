import type { ShellWord } from './words';

/**
 * A fast reader for the command lines agents send most: plain words, '…' and "…" quotes,
 * `&&`, `||`, `|`, `;` and redirections to plain words (`> out.txt`, `2>&1`). It answers only
 * when the line has nothing else; anything with more shell syntax (`$`, backticks, `\`, globs,
 * braces, `~`, `#`, `!`, `(`, `&`, here-documents, keywords, control characters…) returns
 * undefined and the full parser (mvdan-sh) reads it. For every line it does answer, the
 * analysis built from its statements equals the full parser's (test/unit/shellFastPath.test.ts
 * checks every line of the unit tier's corpora against the full parser, and fuzzes both).
 */

export interface SimpleRedirect {
  op: string;
  path: ShellWord;
}

/** One simple command, in source order: `NAME=value` prefixes, the words, the redirections. */
export interface SimpleStatement {
  assigns: string[];
  argv: ShellWord[];
  redirects: SimpleRedirect[];
}

/** Words the full parser reads as syntax at a command's start (keywords, declarations, `let`, `time`…). */
const COMMAND_KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'case',
  'esac',
  'while',
  'until',
  'for',
  'in',
  'select',
  'function',
  'time',
  'coproc',
  'declare',
  'typeset',
  'export',
  'local',
  'readonly',
  'nameref',
  'let',
]);

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Characters that end an unquoted word. */
function isBreak(c: number): boolean {
  // space, tab, | & ; < > ( )
  return c === 32 || c === 9 || c === 124 || c === 38 || c === 59 || c === 60 || c === 62 || c === 40 || c === 41;
}

/**
 * Characters this reader leaves to the full parser wherever they stand unquoted:
 * controls, ! " (handled) # $ ' (handled) * ? [ ] \ ` { } ~ and DEL.
 */
const UNQUOTED_BAIL = new Uint8Array(128);
for (let c = 0; c < 32; c++) UNQUOTED_BAIL[c] = 1;
UNQUOTED_BAIL[9] = 0; // tab separates words
for (const ch of '!#$*?[]\\`{}~') UNQUOTED_BAIL[ch.charCodeAt(0)] = 1;
UNQUOTED_BAIL[127] = 1;
/** Inside "…": `$`, backtick and `\` keep a meaning; controls are left to the full parser too. */
const DOUBLE_BAIL = new Uint8Array(128);
for (let c = 0; c < 32; c++) DOUBLE_BAIL[c] = 1;
for (const ch of '$`\\') DOUBLE_BAIL[ch.charCodeAt(0)] = 1;
DOUBLE_BAIL[127] = 1;

/** Line and paragraph separators and other characters some readers treat as line breaks: left to the full parser. */
function isOddUnicode(c: number): boolean {
  return c === 0x85 || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0xd800 && c <= 0xdfff);
}

/** The statements of a plain command line, or undefined when the full parser must read it. */
export function parseSimpleLine(line: string): SimpleStatement[] | undefined {
  return new SimpleLineReader(line).read();
}

/**
 * The reader's state for one line. A class rather than closures inside `parseSimpleLine`: a
 * decision reads a line in a few µs, and four closures made (and, under tsx, named) per line
 * were a tenth of that (issue 21, round 6).
 */
class SimpleLineReader {
  private readonly n: number;
  private i = 0;
  private readonly statements: SimpleStatement[] = [];
  private current: SimpleStatement = { assigns: [], argv: [], redirects: [] };
  /** Whether the current statement has anything yet (a word, an assignment or a redirection). */
  private started = false;
  /** The last word read: its value after quote removal, and where its source text starts (fields, not an object per word). */
  private wordValue = '';
  private wordStart = 0;
  private wordQuoted = false;

  constructor(private readonly line: string) {
    this.n = line.length;
  }

  private skipBlanks(): void {
    const line = this.line;
    let i = this.i;
    while (i < this.n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    this.i = i;
  }

  /** Reads one word at i (unquoted runs and quotes glued together) into `wordValue`; false to bail out. */
  private readWord(): boolean {
    const line = this.line;
    const n = this.n;
    let i = this.i;
    const start = i;
    let value = '';
    let quoted = false;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (isBreak(c)) break;
      if (c === 39) {
        // '…': everything literal up to the next '
        const end = line.indexOf("'", i + 1);
        if (end < 0) return false;
        for (let k = i + 1; k < end; k++) {
          const q = line.charCodeAt(k);
          if (q < 32 || q === 127 || isOddUnicode(q)) return false;
        }
        quoted = true;
        value += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === 34) {
        let k = i + 1;
        for (; k < n; k++) {
          const q = line.charCodeAt(k);
          if (q === 34) break;
          if ((q < 128 && DOUBLE_BAIL[q]) || isOddUnicode(q)) return false;
        }
        if (k >= n) return false;
        quoted = true;
        value += line.slice(i + 1, k);
        i = k + 1;
      } else {
        // An unquoted run, taken in one slice.
        const from = i;
        for (; i < n; i++) {
          const u = line.charCodeAt(i);
          if (u === 39 || u === 34 || isBreak(u)) break;
          if ((u < 128 && UNQUOTED_BAIL[u]) || isOddUnicode(u)) return false;
        }
        value += line.slice(from, i);
      }
    }
    this.i = i;
    this.wordValue = value;
    this.wordStart = start;
    this.wordQuoted = quoted;
    return i > start;
  }

  /** The last word's source text (quotes included): its value when it had no quotes. */
  private wordRaw(): string {
    return this.wordQuoted ? this.line.slice(this.wordStart, this.i) : this.wordValue;
  }

  /** A redirection operator at i (after an optional fd number already consumed), or undefined. */
  private readRedirectOp(): string | undefined {
    const line = this.line;
    const i = this.i;
    const c = line.charCodeAt(i);
    const d = line.charCodeAt(i + 1);
    if (c === 62) {
      // > >> >& >|
      if (d === 62) {
        if (line.charCodeAt(i + 2) === 38 || line.charCodeAt(i + 2) === 124) return undefined; // >>& >>| : not ours
        this.i += 2;
        return '>>';
      }
      if (d === 38) {
        this.i += 2;
        return '>&';
      }
      if (d === 124) {
        this.i += 2;
        return '>|';
      }
      this.i += 1;
      return '>';
    }
    if (c === 60) {
      // < <> <& (here-documents and here-strings are left to the full parser)
      if (d === 60 || d === 40) return undefined;
      if (d === 62) {
        this.i += 2;
        return '<>';
      }
      if (d === 38) {
        this.i += 2;
        return '<&';
      }
      this.i += 1;
      return '<';
    }
    if (c === 38 && d === 62) {
      // &> &>>
      if (line.charCodeAt(i + 2) === 62) {
        this.i += 3;
        return '&>>';
      }
      this.i += 2;
      return '&>';
    }
    return undefined;
  }

  private readRedirect(): boolean {
    const line = this.line;
    const op = this.readRedirectOp();
    if (op === undefined) return false;
    if (line.charCodeAt(this.i) === 40) return false; // >( process substitution
    this.skipBlanks();
    // `> 2>f`: the full parser reads the digits as the next redirection's descriptor.
    if (!this.readWord() || line.charCodeAt(this.i) === 60 || line.charCodeAt(this.i) === 62) return false;
    this.current.redirects.push({ op, path: { text: this.wordValue, dynamic: false } });
    this.started = true;
    return true;
  }

  read(): SimpleStatement[] | undefined {
    const line = this.line;
    const n = this.n;
    const statements = this.statements;
    this.skipBlanks();
    while (this.i < n) {
      const c = line.charCodeAt(this.i);
      if (c === 60 || c === 62 || (c === 38 && line.charCodeAt(this.i + 1) === 62)) {
        if (!this.readRedirect()) return undefined;
      } else if (c === 124 || c === 38 || c === 59) {
        // | || && ;  (a lone & or |& is left to the full parser)
        if (!this.started) return undefined;
        let op: string;
        if (c === 124) {
          const d = line.charCodeAt(this.i + 1);
          if (d === 38) return undefined;
          op = d === 124 ? '||' : '|';
        } else if (c === 38) {
          if (line.charCodeAt(this.i + 1) !== 38) return undefined;
          op = '&&';
        } else {
          op = ';';
          if (line.charCodeAt(this.i + 1) === 59 || line.charCodeAt(this.i + 1) === 38) return undefined; // ;; ;&
        }
        this.i += op.length;
        statements.push(this.current);
        this.current = { assigns: [], argv: [], redirects: [] };
        this.started = false;
        this.skipBlanks();
        if (op === ';' && this.i >= n) return statements; // a trailing ;
        if (this.i >= n) return undefined; // `a &&` at the end
      } else if (c === 40 || c === 41) {
        return undefined;
      } else {
        if (!this.readWord()) return undefined;
        const value = this.wordValue;
        const next = line.charCodeAt(this.i);
        const redirectFollows = next === 60 || next === 62;
        if (redirectFollows && /[0-9]$/.test(this.wordRaw())) {
          // `2>file`: a file descriptor number, not a word. (mvdan-sh also takes the digits after a
          // quote, `"a"2>f`, as one: such lines are left to it.)
          if (!/^[0-9]+$/.test(this.wordRaw()) || !this.readRedirect()) return undefined;
          this.skipBlanks();
          continue;
        }
        const current = this.current;
        if (current.argv.length === 0) {
          const raw = this.wordRaw();
          if (ASSIGNMENT.test(raw)) {
            current.assigns.push(raw.slice(0, raw.indexOf('=')));
          } else {
            if (COMMAND_KEYWORDS.has(value) || raw.includes('=')) return undefined;
            current.argv.push({ text: value, dynamic: false });
          }
        } else {
          current.argv.push({ text: value, dynamic: false });
        }
        this.started = true;
      }
      this.skipBlanks();
    }
    if (!this.started) return undefined;
    statements.push(this.current);
    return statements;
  }
}
