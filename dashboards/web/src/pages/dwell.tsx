/** Dwell per zone (mean and median of the non-passing stays), its distribution in bands, its trend over the range, and the most common visit paths. */
import { zoneName, type MetricAnswer, type Store } from '../api';
import { BarList, formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { PALETTE, TimeChart } from '../charts/time-chart';
import { intervalStarts, iso, loadMetric, valuesAt } from '../metrics';
import { useData, type Loaded } from '../use-data';
import type { PageProps } from './page-props';

const minutes = (s: number | null | undefined) => (s === null || s === undefined ? null : s / 60);

export function DwellPage({ store, range, rangeKey, nowMs }: PageProps) {
  const answer = useData(`dwell|${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`, (signal) =>
    loadMetric(store.id, { metric: 'dwell', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const key = `${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`;
  const bands = useData(`dwell-bands|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'dwell_distribution', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const paths = useData(`paths|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'paths', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
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
        wide
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
      <DistributionFigure store={store} rangeKey={rangeKey} label={range.label} answer={bands} />
      <PathsFigure store={store} rangeKey={rangeKey} label={range.label} answer={paths} />
    </div>
  );
}

const BANDS = ['0.5-1', '1-2', '2-5', '5-10', '10-20', '20+'];

function DistributionFigure(props: { store: Store; rangeKey: string; label: string; answer: Loaded<MetricAnswer> }) {
  const { store, answer } = props;
  const series = answer.state === 'ok' ? answer.data.series.filter((s) => s.labels['zone'] !== undefined && s.labels['band'] !== undefined) : [];
  const zoneIds = [...new Set(series.map((s) => s.labels['zone'] ?? ''))];
  const count = (zone: string, band: string) => series.find((s) => s.labels['zone'] === zone && s.labels['band'] === band)?.total['count'] ?? 0;
  return (
    <Figure
      title="Dwell distribution per zone"
      rangeKey={props.rangeKey}
      wide
      caption={`How long the non-passing zone stays that began in the range lasted, in bands of minutes (from each band's lower bound to its upper), per zone; ${props.label}.`}
      table={
        answer.state === 'ok'
          ? { header: ['zone', ...BANDS.map((b) => `${b} min`)], rows: zoneIds.map((z) => [zoneName(store, z), ...BANDS.map((b) => count(z, b))]) }
          : null
      }
    >
      {zoneIds.length > 0 ? (
        <div class="funnels">
          {zoneIds.map((z) => (
            <div key={z} class="funnel-card">
              <h3>{zoneName(store, z)}</h3>
              <BarList
                ariaLabel={`Dwell distribution in ${zoneName(store, z)}`}
                unit="stays"
                bars={BANDS.map((b) => ({ label: `${b} min`, value: count(z, b) }))}
              />
            </div>
          ))}
        </div>
      ) : (
        <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} />
      )}
    </Figure>
  );
}

function PathsFigure(props: { store: Store; rangeKey: string; label: string; answer: Loaded<MetricAnswer> }) {
  const { store, answer } = props;
  const series = answer.state === 'ok' ? answer.data.series.filter((s) => s.labels['path'] !== undefined).slice(0, 10) : [];
  const named = (path: string) =>
    path
      .split(' > ')
      .map((z) => zoneName(store, z))
      .join(' → ');
  return (
    <Figure
      title="Most common visit paths"
      rangeKey={props.rangeKey}
      wide
      caption={`The zone sequences of the final visits that started in the range (app carriers), the ten most common; ${props.label}.`}
      table={
        answer.state === 'ok'
          ? {
              header: ['path', 'visits', 'share of visits'],
              rows: series.map((s) => [named(s.labels['path'] ?? ''), s.total['count'] ?? 0, s.total['share'] ?? null]),
            }
          : null
      }
    >
      {series.length > 0 ? (
        <BarList
          ariaLabel="Most common visit paths"
          longLabels
          unit="visits"
          bars={series.map((s) => ({
            label: named(s.labels['path'] ?? ''),
            value: s.total['count'] ?? 0,
            note: s.total['share'] !== null && s.total['share'] !== undefined ? `${formatNumber(100 * s.total['share'], 0)} % of visits` : undefined,
          }))}
        />
      ) : (
        <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} />
      )}
    </Figure>
  );
}
