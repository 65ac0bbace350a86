/**
 * Delimited text (CSV as RFC 4180 writes it, or any delimiter with quoting turned off): records with the
 * line each starts on. With quoting, a field in double quotes may hold delimiters, newlines and doubled
 * quotes; a quote inside an unquoted field is kept as it is (as Python's csv module does).
 */
import { HealbertError } from '../errors.js';

export interface DelimitedOptions {
  delimiter: string;
  quote: boolean;
}

export interface DelimitedRecord {
  line: number;
  fields: string[];
}

export function* parseDelimited(text: string, path: string, options: DelimitedOptions): Generator<DelimitedRecord> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const delimiter = options.delimiter;
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let endOfRecord = false;
    while (!endOfRecord) {
      if (options.quote && text[i] === '"' && field === '') {
        // A quoted field: up to the closing quote; "" is a literal quote.
        i++;
        for (;;) {
          if (i >= n) throw new HealbertError('ERR_DATA', `${path}:${startLine}: unterminated quoted field`);
          const c = text[i] as string;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
      }
      // The rest of an unquoted field (or anything after a closing quote) up to a delimiter or newline.
      let j = i;
      while (j < n) {
        const c = text[j];
        if (c === delimiter || c === '\n' || c === '\r') break;
        j++;
      }
      field += text.slice(i, j);
      i = j;
      fields.push(field);
      field = '';
      if (i >= n) endOfRecord = true;
      else if (text[i] === delimiter) i++;
      else {
        if (text[i] === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        endOfRecord = true;
      }
    }
    yield { line: startLine, fields };
  }
}
