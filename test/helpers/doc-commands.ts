/**
 * Finds the `healbert ...` command lines and the `ts` examples in Markdown, and checks a command line against
 * the CLI's own option tables (src/cli/commands), so that a guide cannot keep a flag the CLI no longer has.
 *
 * What counts as a command line:
 * - in a fenced block marked sh, bash, shell, console or zsh: every line (continued with a trailing `\`) whose
 *   command, after `$ `, `npx`, `sudo`, environment assignments, `&&`, `;` or `|`, is `healbert`;
 * - in inline code: a span that starts with `healbert ` or `npx healbert `.
 * Output blocks (no language, or text) are not read: they hold what healbert printed, not what to type.
 *
 * Placeholders are allowed where a guide shows a template rather than a line to paste: `<model-dir>` is one
 * argument, `[--json]` is an optional part (checked as if given), `a|b` in the command's place checks both,
 * and a `...` argument means "and more": the line's flags are still checked, but not what it leaves out
 * (required options, positional arguments). An inline span that only names a command (`healbert run`) is a
 * mention of it: only the command is checked.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { type Command, parseArgsOptions } from '../../src/cli/command.js';

export interface CommandLine {
  file: string;
  /** 1-based line of the Markdown file where the command starts. */
  line: number;
  /** The command line as written (continuations joined, comments removed). */
  text: string;
  /** From a fenced block (a line to paste) or inline code (possibly a fragment). */
  source: 'block' | 'inline';
}

export interface CodeExample {
  file: string;
  /** 1-based line of the first line of code (after the fence). */
  line: number;
  code: string;
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

interface Fence {
  language: string;
  /** 1-based line of the first line inside the fence. */
  start: number;
  lines: string[];
}

/** The fenced blocks of a Markdown text, and the text with every fenced line blanked (line numbers kept). */
function fences(markdown: string): { blocks: Fence[]; prose: string } {
  const lines = markdown.split('\n');
  const blocks: Fence[] = [];
  const prose: string[] = [];
  let open: Fence | undefined;
  let marker = '';
  for (const [i, line] of lines.entries()) {
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (!open && fence) {
      marker = fence[1] as string;
      open = { language: (fence[2] ?? '').toLowerCase(), start: i + 2, lines: [] };
      prose.push('');
    } else if (open && line.trim().startsWith(marker) && line.trim().replace(/[`~]/g, '') === '') {
      blocks.push(open);
      open = undefined;
      prose.push('');
    } else if (open) {
      open.lines.push(line);
      prose.push('');
    } else prose.push(line);
  }
  return { blocks, prose: prose.join('\n') };
}

/** Splits a shell line into commands at unquoted `&&`, `||`, `;` and `|`, dropping an unquoted `# comment`. */
function shellCommands(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current += c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) break;
    else if (c === '&' && line[i + 1] === '&') {
      parts.push(current);
      current = '';
      i++;
    } else if (c === '|' || c === ';') {
      parts.push(current);
      current = '';
      if (line[i + 1] === '|') i++;
    } else current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** The part of a shell command from `healbert` on, or undefined when it does not run healbert. */
function healbertPart(command: string): string | undefined {
  const m = /^(?:\$\s+)?(?:sudo\s+)?(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:npx\s+)?(healbert(?:\s.*)?)$/.exec(command);
  return m?.[1];
}

/** Every `healbert` command line of a Markdown file: shell blocks and inline code. */
export function extractCommandLines(markdown: string, file: string): CommandLine[] {
  const { blocks, prose } = fences(markdown);
  const found: CommandLine[] = [];
  for (const block of blocks) {
    if (!SHELL_LANGUAGES.has(block.language)) continue;
    for (let i = 0; i < block.lines.length; i++) {
      const first = i;
      let text = block.lines[i] as string;
      while (text.endsWith('\\') && i + 1 < block.lines.length) text = `${text.slice(0, -1)} ${(block.lines[++i] as string).trim()}`;
      for (const command of shellCommands(text)) {
        const part = healbertPart(command);
        if (part) found.push({ file, line: block.start + first, text: part, source: 'block' });
      }
    }
  }
  // Inline code: a span may wrap onto the next line of its paragraph, never across a blank line.
  for (const m of prose.matchAll(/(?<!`)`([^`]+)`(?!`)/g)) {
    const span = (m[1] as string).replace(/\s*\n\s*/g, ' ').trim();
    if ((m[1] as string).includes('\n\n')) continue;
    const part = healbertPart(span);
    if (!part) continue;
    const line = prose.slice(0, m.index).split('\n').length;
    found.push({ file, line, text: part, source: 'inline' });
  }
  return found.sort((a, b) => a.line - b.line);
}

/** Every ```ts (or typescript) block of a Markdown file. */
export function extractTypeScriptExamples(markdown: string, file: string): CodeExample[] {
  return fences(markdown)
    .blocks.filter((b) => b.language === 'ts' || b.language === 'typescript')
    .map((b) => ({ file, line: b.start, code: b.lines.join('\n') }));
}

/** Shell-like words, with quotes removed, `<...>` placeholders kept whole, `\|` read as `|` (Markdown tables). */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /<[^>]*>\S*|'[^']*'|"[^"]*"|\S+/g;
  for (const m of text.replace(/\\\|/g, '|').matchAll(re)) {
    const w = m[0];
    out.push(/^(['"]).*\1$/.test(w) ? w.slice(1, -1) : w);
  }
  return out;
}

/** Drops output redirections (`> file`, `2>&1`, `>> log`) from a command's words. */
function withoutRedirections(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (/^\d?>>?&\d$/.test(a)) continue;
    if (/^\d?>>?$/.test(a)) {
      i++;
      continue;
    }
    if (/^\d?>>?\S/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/** A `...` after an option that takes a value is that value; anywhere else it stands for more arguments and is dropped. */
function withoutEllipses(args: string[], command: Command): string[] {
  const out: string[] = [];
  for (const [i, a] of args.entries()) {
    if (a !== '...') out.push(a);
    else {
      const flag = /^--([\w-]+)$/.exec(args[i - 1] ?? '')?.[1];
      if (flag !== undefined && command.options[flag]?.type === 'string') out.push('<value>');
    }
  }
  return out;
}

/**
 * What is wrong with one command line, checked against the CLI's commands: an unknown (removed) command, a flag
 * the command does not have, a flag without its value, too many or too few positional arguments, a required
 * option left out. An empty list: the line is one the CLI accepts.
 */
export function checkCommandLine(line: CommandLine, commands: readonly Command[]): string[] {
  const all = withoutRedirections(words(line.text)).slice(1);
  // Optional parts: `[--json]` is checked as `--json`.
  const tokens = all.flatMap((w) => (/^\[.*\]$/.test(w) ? [w.slice(1, -1)] : [w.replace(/^\[/, '').replace(/\]$/, '')])).filter(Boolean);
  const [name, ...args] = tokens;
  if (name === undefined || name.startsWith('-')) return []; // `healbert --help`, `healbert --version`
  if (/^<.*>$/.test(name)) return []; // `healbert <command> --help`: a template over every command
  if (name.endsWith(':')) return []; // `healbert sweep: error [ERR_IO]: ...`: what healbert printed, not a command
  const template = args.includes('...') || (line.source === 'inline' && args.length === 0);
  const problems: string[] = [];
  for (const commandName of name.split('|')) {
    const command = commands.find((c) => c.name === commandName);
    if (!command) {
      problems.push(`unknown command '${commandName}' (the CLI has ${commands.map((c) => c.name).join(', ')})`);
      continue;
    }
    if (line.source === 'inline' && args.length === 0) continue;
    const values = withoutEllipses(args, command);
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: values, options: parseArgsOptions(command), allowPositionals: true, strict: true });
    } catch (error) {
      problems.push(`healbert ${commandName}: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
      continue;
    }
    if (parsed.values.help === true) continue;
    const { min, max } = command.positionals ?? { min: 0, max: 0 };
    const count = parsed.positionals.length;
    if (count > max)
      problems.push(
        `healbert ${commandName}: takes ${max === 0 ? 'no positional arguments' : `at most ${max} (${command.args})`}, got ${count}: ${parsed.positionals.join(' ')}`,
      );
    if (template) continue;
    if (count < min) problems.push(`healbert ${commandName}: missing ${command.args ?? 'positional arguments'}`);
    for (const [option, spec] of Object.entries(command.options)) {
      if (spec.required && parsed.values[option] === undefined) problems.push(`healbert ${commandName}: missing required --${option}`);
    }
  }
  return problems;
}

/**
 * Type-checks examples as modules of the repository that import 'healbert' from src/index.ts, with the strictness
 * of tsconfig.json. Each example is a file in memory; only the examples are checked (the library's own files are
 * read for their types, which `npm run typecheck` checks), so this takes seconds. Returns `file:line: message`.
 */
export function typeCheckExamples(examples: readonly CodeExample[], root: string): string[] {
  const virtual = new Map(examples.map((e, i) => [join(root, 'doc-examples', `example-${i}.ts`), e]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    baseUrl: root,
    paths: { healbert: ['src/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f)?.code ?? readFile.call(host, f);
  host.getSourceFile = (f, language, ...rest) => {
    const example = virtual.get(f);
    return example ? ts.createSourceFile(f, example.code, language, true) : getSourceFile.call(host, f, language, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: string[] = [];
  for (const [path, example] of virtual) {
    const source = program.getSourceFile(path);
    if (!source) throw new Error(`${path}: not in the program`);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      problems.push(`${example.file}:${example.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return problems;
}

/** A relative link of a Markdown file: the file it names (empty: this file) and its #anchor. */
export interface MarkdownLink {
  line: number;
  file: string;
  anchor: string | undefined;
}

/** The relative links of a Markdown text (web links and links inside code are left out). */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const { prose } = fences(markdown);
  const links: MarkdownLink[] = [];
  const outsideCode = prose.replace(/`[^`]*`/g, (m) => m.replace(/[^\n]/g, ' '));
  for (const m of outsideCode.matchAll(/\]\(([^)\s]+)\)/g)) {
    const href = m[1] as string;
    if (/^[a-z]+:/i.test(href)) continue;
    const [file, anchor] = href.split('#') as [string, string | undefined];
    links.push({ line: outsideCode.slice(0, m.index).split('\n').length, file, anchor });
  }
  return links;
}

/** The anchors GitHub gives a Markdown text's headings: lower case, punctuation dropped, spaces as dashes. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of fences(markdown).prose.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(
      (m[1] as string)
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}
