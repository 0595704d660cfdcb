/**
 * Every chart and table sits in a Figure: its title, what the figure is (definition, period, how
 * sure), the chart, the same data as a table for screen readers and keyboard users (and anyone who
 * wants the numbers), and a CSV download of exactly that data.
 */
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

import { csvFileName, toCsv, type CsvCell } from '../csv';

export interface TableData {
  header: string[];
  rows: CsvCell[][];
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function Figure(props: {
  title: string;
  /** What the figure means and over which period: shown under the title. */
  caption: ComponentChildren;
  table: TableData | null;
  /** Part of the CSV file name: the range, e.g. "2026-12-01". */
  rangeKey: string;
  /** A short text that sums up the chart for screen readers. */
  summary?: string;
  children?: ComponentChildren;
  wide?: boolean;
  /** The table is the figure itself (a list of devices): shown, not folded away. */
  tableOpen?: boolean;
}) {
  const id = useId();
  const { table } = props;
  return (
    <figure class={props.wide ? 'card wide' : 'card'} aria-labelledby={`${id}-t`} data-figure={props.title}>
      <div class="figure-head">
        <h2 id={`${id}-t`}>{props.title}</h2>
        {table && table.rows.length > 0 && (
          <button type="button" class="small" onClick={() => download(csvFileName(props.title, props.rangeKey), toCsv(table.header, table.rows))}>
            CSV<span class="visually-hidden"> of {props.title}</span>
          </button>
        )}
      </div>
      <figcaption class="muted">{props.caption}</figcaption>
      {props.summary && <p class="visually-hidden">{props.summary}</p>}
      {props.children}
      {table && table.rows.length > 0 && props.tableOpen && <DataTable table={table} label={props.title} />}
      {table && table.rows.length > 0 && !props.tableOpen && (
        <details class="data-table">
          <summary>Table of {props.title.toLowerCase()}</summary>
          <DataTable table={table} label={props.title} />
        </details>
      )}
    </figure>
  );
}

/** What a figure shows while its data loads, or why it has none. */
export function Placeholder(props: { loading?: boolean; error?: string; empty?: string }) {
  if (props.error)
    return (
      <p class="error" role="alert">
        Could not load: {props.error}
      </p>
    );
  if (props.loading)
    return (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    );
  return <p class="muted">{props.empty ?? 'No data in this range.'}</p>;
}

/** A table that may scroll: a focusable region, so the keyboard can scroll it too. */
function DataTable({ table, label }: { table: TableData; label: string }) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={`${label}, table`}>
      <table>
        <thead>
          <tr>
            {table.header.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>{cell === null || cell === undefined ? '–' : String(cell)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
