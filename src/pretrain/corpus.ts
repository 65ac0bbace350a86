/**
 * A plain-text corpus for masked-language-model pre-training: files become documents, documents become
 * sentences. Project Gutenberg boilerplate (before "*** START OF" and after "*** END OF") is dropped.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HealbertError } from '../errors.js';

export interface Document {
  name: string;
  sentences: string[];
}

/** Every .txt file under the given files and folders, sorted, so the corpus order is stable. */
export async function corpusFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      throw new HealbertError('ERR_IO', `corpus path ${path} does not exist`);
    }
    if (info.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      files.push(...entries.filter((e) => e.isFile() && e.name.endsWith('.txt')).map((e) => join(e.parentPath, e.name)));
    } else {
      files.push(path);
    }
  }
  if (files.length === 0) throw new HealbertError('ERR_IO', `no .txt files in ${paths.join(', ')}`);
  return [...new Set(files)].sort();
}

/** The text between Project Gutenberg's start and end markers, when the file has them. */
export function stripGutenberg(text: string): string {
  const start = /^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$/im.exec(text);
  const end = /^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$/im.exec(text);
  const from = start ? start.index + start[0].length : 0;
  const to = end && end.index > from ? end.index : text.length;
  return text.slice(from, to);
}

/**
 * Sentences of a text: paragraphs are separated by blank lines and their wrapped lines joined; a sentence
 * ends at . ! or ? (with closing quotes or brackets) followed by whitespace and an opening capital, digit
 * or quote.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const paragraph of text.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const joined = paragraph.replace(/\s+/g, ' ').trim();
    if (!joined) continue;
    for (const s of joined.split(/(?<=[.!?]["'\u201d\u2019)\]]*)\s+(?=["'\u201c\u2018([]*[A-Z0-9])/)) {
      const trimmed = s.trim();
      if (trimmed) sentences.push(trimmed);
    }
  }
  return sentences;
}

export async function readDocuments(files: string[]): Promise<Document[]> {
  const documents: Document[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    documents.push({ name: basename(file), sentences: splitSentences(stripGutenberg(text)) });
  }
  return documents;
}
