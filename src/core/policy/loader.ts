import { findNodeAtLocation, getNodeValue, parse, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import * as z from 'zod';
import { PolicyFile, TighteningRules } from './schema';

/** A problem in a policy file, at a 1-based line and column (what the Problems panel shows). */
export interface PolicyProblem {
  message: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** 0-based character offset and length in the text. */
  offset: number;
  length: number;
  /** JSON path of the offending value, for validation errors. */
  path?: Array<string | number>;
}

export type LoadResult<T> = { ok: true; value: T; text: string } | { ok: false; problems: PolicyProblem[]; text: string };

/** Loads `.warden/policy.json` text (JSONC: comments and trailing commas allowed). */
export function loadPolicyText(text: string): LoadResult<PolicyFile> {
  return loadJsonc(text, PolicyFile);
}

/** Loads a machine-managed policy file (only tightening rules). */
export function loadManagedPolicyText(text: string): LoadResult<TighteningRules> {
  return loadJsonc(text, TighteningRules);
}

export function loadJsonc<T>(text: string, schema: z.ZodType<T>): LoadResult<T> {
  const errors: ParseError[] = [];
  const raw: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    return {
      ok: false,
      text,
      problems: errors.map((e) =>
        problemAt(text, e.offset, Math.max(1, e.length), `JSON syntax error: ${describeParseError(printParseErrorCode(e.error))}`),
      ),
    };
  }
  if (raw === undefined) return { ok: false, text, problems: [problemAt(text, 0, 1, 'The file is empty; it must hold a JSON object')] };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data, text };
  const tree = parseTree(text, undefined, { allowTrailingComma: true });
  return { ok: false, text, problems: parsed.error.issues.map((issue) => issueProblem(text, tree, issue)) };
}

/**
 * Problems of one setting inside a VS Code settings file (JSONC), e.g. `warden.policy.userRules`
 * at `["warden.policy.userRules"]` in settings.json or `["settings", "warden.policy.userRules"]`
 * in a .code-workspace file: at the line and column of the offending value, for the Problems
 * panel. Empty when the setting is absent or valid, or the file does not parse (VS Code itself
 * reports syntax errors in settings files).
 */
export function settingProblems<T>(text: string, settingPath: ReadonlyArray<string | number>, schema: z.ZodType<T>): PolicyProblem[] {
  const tree = parseTree(text, undefined, { allowTrailingComma: true });
  const node = tree ? findNodeAtLocation(tree, [...settingPath]) : undefined;
  if (!node) return [];
  const parsed = schema.safeParse(getNodeValue(node));
  if (parsed.success) return [];
  const setting = String(settingPath[settingPath.length - 1]);
  return parsed.error.issues.map((issue) => {
    const problem = issueProblem(text, tree, issue, settingPath);
    return { ...problem, message: `${setting}: ${problem.message}` };
  });
}

function issueProblem(
  text: string,
  tree: Node | undefined,
  issue: z.core.$ZodIssue,
  prefix: ReadonlyArray<string | number> = [],
): PolicyProblem {
  const inner = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
  const path = [...prefix, ...inner];
  // Point at the deepest node that exists: an unknown key is reported at the key itself.
  let node: Node | undefined;
  if (tree) {
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
      const parent = findNodeAtLocation(tree, path);
      const property = parent?.children?.find((p) => p.type === 'property' && p.children?.[0]?.value === issue.keys[0]);
      node = property?.children?.[0];
    }
    for (let depth = path.length; !node && depth >= 0; depth--) node = findNodeAtLocation(tree, path.slice(0, depth));
    // For a value inside a property, point at the value (the key's node is its parent's first child).
  }
  const where = inner.length > 0 ? `${inner.join('.')}: ` : '';
  return { ...problemAt(text, node?.offset ?? 0, node?.length ?? 1, `${where}${issue.message}`), path: inner };
}

export function problemAt(text: string, offset: number, length: number, message: string): PolicyProblem {
  const start = lineColumn(text, offset);
  const end = lineColumn(text, offset + length);
  return { message, line: start.line, column: start.column, endLine: end.line, endColumn: end.column, offset, length };
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/** Where a JSON path is in the text (e.g. ['examples', 2]), for diagnostics on failed examples. */
export function locate(text: string, path: Array<string | number>): PolicyProblem | undefined {
  const tree = parseTree(text, undefined, { allowTrailingComma: true });
  const node = tree ? findNodeAtLocation(tree, path) : undefined;
  return node ? problemAt(text, node.offset, node.length, '') : undefined;
}

function describeParseError(code: string): string {
  const words: Record<string, string> = {
    InvalidSymbol: 'unexpected character',
    InvalidNumberFormat: 'invalid number',
    PropertyNameExpected: 'a property name is expected',
    ValueExpected: 'a value is expected',
    ColonExpected: 'a colon is expected',
    CommaExpected: 'a comma is expected',
    CloseBraceExpected: 'a closing brace is expected',
    CloseBracketExpected: 'a closing bracket is expected',
    EndOfFileExpected: 'nothing may follow the object',
    InvalidCommentToken: 'invalid comment',
    UnexpectedEndOfComment: 'unterminated comment',
    UnexpectedEndOfString: 'unterminated string',
    UnexpectedEndOfNumber: 'unterminated number',
    InvalidUnicode: 'invalid unicode escape',
    InvalidEscapeCharacter: 'invalid escape character',
    InvalidCharacter: 'invalid character',
  };
  return words[code] ?? code;
}
