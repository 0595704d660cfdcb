/** The store and time-range pickers: they change the address bar, and the page follows it. */
import { useState } from 'preact/hooks';

import type { Store } from './api';
import { PRESET_LABELS, RANGE_PRESETS, type RangeChoice } from './time-range';

export function Pickers(props: { stores: Store[]; store: string; range: RangeChoice; onChange: (store: string, range: RangeChoice) => void }) {
  const custom = !('preset' in props.range);
  const [from, setFrom] = useState('preset' in props.range ? '' : props.range.from);
  const [to, setTo] = useState('preset' in props.range ? '' : props.range.to);
  const [problem, setProblem] = useState('');
  const applyCustom = (event: Event) => {
    event.preventDefault();
    if (!from || !to) return setProblem('Give both dates.');
    if (to < from) return setProblem('The range ends before it starts.');
    setProblem('');
    props.onChange(props.store, { from, to });
  };
  return (
    <div class="pickers">
      <label for="store-picker">Store</label>
      <select id="store-picker" value={props.store} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value, props.range)}>
        {props.stores.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name ?? s.id}
          </option>
        ))}
      </select>
      <label for="range-picker">Range</label>
      <select
        id="range-picker"
        value={custom ? 'custom' : (props.range as { preset: string }).preset}
        onChange={(e) => {
          const value = (e.target as HTMLSelectElement).value;
          if (value !== 'custom') props.onChange(props.store, { preset: value as (typeof RANGE_PRESETS)[number] });
          else if (from && to) props.onChange(props.store, { from, to });
          else {
            setFrom(from || new Date().toISOString().slice(0, 10));
            setTo(to || new Date().toISOString().slice(0, 10));
            props.onChange(props.store, { from: from || new Date().toISOString().slice(0, 10), to: to || new Date().toISOString().slice(0, 10) });
          }
        }}
      >
        {RANGE_PRESETS.map((p) => (
          <option key={p} value={p}>
            {PRESET_LABELS[p]}
          </option>
        ))}
        <option value="custom">Dates…</option>
      </select>
      {custom && (
        <form class="custom-range" onSubmit={applyCustom} aria-label="Custom date range">
          <label>
            From <input type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} required />
          </label>
          <label>
            to <input type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} required />
          </label>
          <button type="submit" class="small">
            Show
          </button>
          <span class="error" role="alert">
            {problem}
          </span>
        </form>
      )}
    </div>
  );
}
