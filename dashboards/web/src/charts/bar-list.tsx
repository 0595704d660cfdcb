/** Horizontal bars for a few labelled values (a distribution, a funnel, the top paths): plain HTML, readable without the chart. */

export interface Bar {
  label: string;
  value: number;
  /** Shown after the value, e.g. "42 % of visits". */
  note?: string;
}

export function BarList(props: { bars: Bar[]; unit: string; ariaLabel: string; color?: string; longLabels?: boolean }) {
  const max = Math.max(1e-9, ...props.bars.map((b) => b.value));
  return (
    <ul class={props.longLabels ? 'bar-list long-labels' : 'bar-list'} aria-label={props.ariaLabel}>
      {props.bars.map((b) => (
        <li key={b.label}>
          <span class="bar-label">{b.label}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${(100 * b.value) / max}%`, background: props.color ?? '#1f5fbf' }} />
          </span>
          <span class="bar-value">
            {formatNumber(b.value)} {props.unit}
            {b.note ? <span class="muted"> · {b.note}</span> : null}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number.isInteger(value) ? value.toLocaleString('en-GB') : value.toLocaleString('en-GB', { maximumFractionDigits: digits });
}
