/** Dwell per zone (mean and median of the non-passing stays) and its trend over the range. */
import { zoneName } from '../api';
import { BarList } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { PALETTE, TimeChart } from '../charts/time-chart';
import { intervalStarts, iso, loadMetric, valuesAt } from '../metrics';
import { useData } from '../use-data';
import type { PageProps } from './page-props';

const minutes = (s: number | null | undefined) => (s === null || s === undefined ? null : s / 60);

export function DwellPage({ store, range, rangeKey, nowMs }: PageProps) {
  const answer = useData(`dwell|${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`, (signal) =>
    loadMetric(store.id, { metric: 'dwell', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const times = intervalStarts(range.fromMs, range.toMs, range.intervalMs);
  const zones = answer.state === 'ok' ? answer.data.series.filter((s) => s.labels['zone'] !== undefined) : [];
  const per = range.interval === '1h' ? 'hour' : 'day';
  const placeholder = <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} />;
  return (
    <div class="grid">
      <Figure
        title="Dwell per zone"
        rangeKey={rangeKey}
        caption={`Median and mean time in each zone of the zone stays that began in the range (zone stays under 30 s, walked through, left out), ${range.label}.`}
        table={
          answer.state === 'ok'
            ? {
                header: ['zone', 'stays', 'median dwell (min)', 'mean dwell (min)'],
                rows: zones.map((s) => [
                  zoneName(store, s.labels['zone'] ?? ''),
                  s.total['count'] ?? 0,
                  minutes(s.total['median_dwell_s']),
                  minutes(s.total['mean_dwell_s']),
                ]),
              }
            : null
        }
      >
        {zones.length > 0 ? (
          <BarList
            ariaLabel="Median dwell per zone"
            unit="min median"
            bars={zones.map((s) => ({
              label: zoneName(store, s.labels['zone'] ?? ''),
              value: minutes(s.total['median_dwell_s']) ?? 0,
              note: `${s.total['count'] ?? 0} stays, mean ${(minutes(s.total['mean_dwell_s']) ?? 0).toFixed(1)} min`,
            }))}
          />
        ) : (
          placeholder
        )}
      </Figure>
      <Figure
        title={`Mean dwell per ${per}`}
        rangeKey={rangeKey}
        wide
        caption={`Mean dwell of each zone's non-passing stays that began in each ${per}, minutes; ${range.label}.`}
        table={
          answer.state === 'ok'
            ? {
                header: ['interval start', ...zones.map((s) => `${zoneName(store, s.labels['zone'] ?? '')} (min)`)],
                rows: times.map((t, i) => [iso(t), ...zones.map((s) => minutes(valuesAt(s, 'mean_dwell_s', times)[i]))]),
              }
            : null
        }
      >
        {zones.length > 0 ? (
          <TimeChart
            ariaLabel={`Mean dwell per zone per ${per}`}
            times={times}
            unit="min"
            timeZone={store.timezone}
            series={zones.map((s, i) => ({
              label: zoneName(store, s.labels['zone'] ?? ''),
              values: valuesAt(s, 'mean_dwell_s', times).map(minutes),
              color: PALETTE[i % PALETTE.length] ?? '#000',
            }))}
          />
        ) : (
          placeholder
        )}
      </Figure>
    </div>
  );
}
