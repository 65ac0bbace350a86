/**
 * A table is the one shape every output format renders: named columns with a kind that decides how a
 * value prints (CSV keeps full precision; Markdown and HTML round).
 */
export type Cell = string | number | boolean | null;

/** A column of a report table: its key in the rows, its title and how its numbers are formatted. */
export interface Column {
  key: string;
  title: string;
  /** num: 4 significant digits; p: p-value; int: integer; text: as is. */
  kind?: 'num' | 'p' | 'int' | 'text';
}

/** A report table: its id, title, columns and rows (rendered as HTML, Markdown or CSV). */
export interface Table {
  id: string;
  title: string;
  columns: Column[];
  rows: Record<string, Cell>[];
}

export function formatCell(value: Cell | undefined, kind: Column['kind'] = 'text'): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  switch (kind) {
    case 'int':
      return String(Math.round(value));
    case 'p':
      return value === 0 ? '0' : value < 1e-4 ? value.toExponential(1) : value.toPrecision(2);
    case 'num': {
      if (value === 0) return '0';
      const abs = Math.abs(value);
      if (abs >= 1e5 || abs < 1e-4) return value.toExponential(3);
      return Number(value.toPrecision(4)).toString();
    }
    default:
      return String(value);
  }
}

function csvField(value: Cell | undefined): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row; numbers at full precision, missing values empty. */
export function toCsv(table: Table): string {
  const lines = [table.columns.map((c) => csvField(c.key)).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvField(row[c.key])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(table: Table, options: { heading?: boolean } = {}): string {
  const out: string[] = [];
  if (options.heading !== false) out.push(`### ${table.title}`, '');
  if (table.rows.length === 0) return `${[...out, '_No rows._'].join('\n')}\n`;
  out.push(`| ${table.columns.map((c) => mdEscape(c.title)).join(' | ')} |`);
  out.push(`| ${table.columns.map((c) => (c.kind && c.kind !== 'text' ? '---:' : '---')).join(' | ')} |`);
  for (const row of table.rows) out.push(`| ${table.columns.map((c) => mdEscape(formatCell(row[c.key], c.kind))).join(' | ')} |`);
  return `${out.join('\n')}\n`;
}

const htmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export { htmlEscape };

export function toHtmlTable(table: Table): string {
  if (table.rows.length === 0) return '<p class="empty">No rows.</p>';
  const head = table.columns.map((c) => `<th${c.kind && c.kind !== 'text' ? ' class="n"' : ''}>${htmlEscape(c.title)}</th>`).join('');
  const body = table.rows
    .map((row) => {
      const status = typeof row.status === 'string' && row.status !== 'done' ? ` class="status-${htmlEscape(row.status)}"` : '';
      return `<tr${status}>${table.columns.map((c) => `<td${c.kind && c.kind !== 'text' ? ' class="n"' : ''}>${htmlEscape(formatCell(row[c.key], c.kind))}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table id="table-${htmlEscape(table.id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}
