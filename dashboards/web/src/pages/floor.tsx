/** The floor plan: zones from the store's layout coloured by occupancy or dwell, over the whole range or one interval picked with the time scrubber. */
import { useState } from 'preact/hooks';

import { zoneName } from '../api';
import { formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { FloorPlan } from '../charts/floor-plan';
import { intervalStarts, iso, loadMetric, valuesAt } from '../metrics';
import { useData } from '../use-data';
import type { PageProps } from './page-props';

const MODES = {
  occupancy: { metric: 'occupancy', field: 'people_mean', unit: 'people', title: 'mean people', filter: (l: Record<string, string>) => l['unit'] === 'people' },
  dwell: { metric: 'dwell', field: 'mean_dwell_s', unit: 'min', title: 'mean dwell', filter: (l: Record<string, string>) => l['unit'] === undefined },
} as const;
type Mode = keyof typeof MODES;

export function FloorPage({ store, range, rangeKey, nowMs }: PageProps) {
  const [mode, setMode] = useState<Mode>('occupancy');
  const [position, setPosition] = useState(0);
  const spec = MODES[mode];
  const answer = useData(`floor|${mode}|${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`, (signal) =>
    loadMetric(store.id, { metric: spec.metric, fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const times = intervalStarts(range.fromMs, range.toMs, range.intervalMs);
  const at = Math.min(position, times.length);
  const series = answer.state === 'ok' ? answer.data.series.filter((s) => s.labels['zone'] !== undefined && spec.filter(s.labels)) : [];
  const scale = (v: number | null | undefined) => (v === null || v === undefined ? null : mode === 'dwell' ? v / 60 : v);
  const values: Record<string, number | null> = {};
  for (const s of series) {
    const zone = s.labels['zone'] ?? '';
    values[zone] = scale(at === 0 ? s.total[spec.field] : valuesAt(s, spec.field, times)[at - 1]);
  }
  const when =
    at === 0 ? `the whole range (${range.label})` : `${new Date(times[at - 1] ?? 0).toLocaleString('en-GB', { timeZone: store.timezone })} (${range.interval})`;
  return (
    <>
      <fieldset class="controls">
        <legend>Colour the zones by</legend>
        {(Object.keys(MODES) as Mode[]).map((m) => (
          <label key={m}>
            <input type="radio" name="floor-mode" value={m} checked={mode === m} onChange={() => setMode(m)} /> {MODES[m].title}
          </label>
        ))}
      </fieldset>
      <div class="controls scrubber">
        <label for="scrubber">Time</label>
        <input
          id="scrubber"
          type="range"
          min={0}
          max={times.length}
          value={at}
          aria-valuetext={when}
          onInput={(e) => setPosition(Number((e.target as HTMLInputElement).value))}
        />
        <output for="scrubber">{when}</output>
      </div>
      <Figure
        title={`Floor plan by ${spec.title}`}
        rangeKey={rangeKey}
        wide
        caption={
          mode === 'occupancy'
            ? `Mean people in each zone over ${when} (occupancy-people/1). Darker is more.`
            : `Mean dwell of the non-passing zone stays that began in ${when}, minutes (zone stays under 30 s left out). Darker is longer.`
        }
        table={{
          header: ['zone', `${spec.title} (${spec.unit})`, 'period'],
          rows: store.zones.map((z) => [z.name ?? z.id, values[z.id] ?? null, at === 0 ? rangeKey : iso(times[at - 1] ?? 0)]),
        }}
      >
        {answer.state === 'ok' ? (
          <FloorPlan
            store={store}
            values={values}
            unit={spec.unit}
            ariaLabel={`Floor plan of ${store.name ?? store.id}, zones coloured by ${spec.title} over ${when}`}
          />
        ) : (
          <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} />
        )}
        <ul class="legend" aria-label="Zones">
          {store.zones.map((z) => (
            <li key={z.id}>
              {zoneName(store, z.id)}: {formatNumber(values[z.id] ?? null)} {spec.unit}
            </li>
          ))}
        </ul>
      </Figure>
    </>
  );
}
