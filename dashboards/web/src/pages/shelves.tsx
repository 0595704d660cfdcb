/** Smart shelves (items picked up and put back) and environment readings (temperature, humidity, CO₂, battery) per device. */
import type { MetricAnswer, Store } from '../api';
import { BarList, formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { PALETTE, TimeChart } from '../charts/time-chart';
import { intervalStarts, iso, loadMetric, valuesAt } from '../metrics';
import type { Loaded } from '../use-data';
import { useData } from '../use-data';
import type { PageProps } from './page-props';

function deviceName(store: Store, id: string): string {
  const device = store.devices.find((d) => d.id === id);
  const zone = store.zones.find((z) => z.id === device?.zone);
  return `${device?.name ?? id}${zone ? ` (${zone.name ?? zone.id})` : ''}`;
}

const READINGS = [
  { field: 'mean_temperature_c', title: 'Temperature', unit: '°C' },
  { field: 'mean_humidity_pct', title: 'Humidity', unit: '%' },
  { field: 'mean_co2_ppm', title: 'CO₂', unit: 'ppm' },
] as const;

function placeholder(loaded: Loaded<MetricAnswer>, empty: string) {
  return <Placeholder loading={loaded.state === 'loading'} error={loaded.state === 'error' ? loaded.message : ''} empty={empty} />;
}

export function ShelvesPage({ store, range, rangeKey, nowMs }: PageProps) {
  const key = `${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`;
  const shelf = useData(`shelf|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'shelf', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const env = useData(`environment|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'environment', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const times = intervalStarts(range.fromMs, range.toMs, range.intervalMs);
  const per = range.interval === '1h' ? 'hour' : 'day';
  const shelves = shelf.state === 'ok' ? shelf.data.series.filter((s) => s.labels['device'] !== undefined) : [];
  const envs = env.state === 'ok' ? env.data.series.filter((s) => s.labels['device'] !== undefined) : [];
  return (
    <div class="grid">
      <Figure
        title="Shelf pick-ups and put-backs"
        rangeKey={rangeKey}
        caption={`Items picked up and put back at each smart shelf (the sum of its events' quantities), ${range.label}.`}
        table={
          shelf.state === 'ok'
            ? {
                header: ['shelf', 'picked up', 'put back', 'put back of picked up'],
                rows: shelves.map((s) => {
                  const picked = s.total['pick_ups'] ?? 0;
                  const back = s.total['put_backs'] ?? 0;
                  return [deviceName(store, s.labels['device'] ?? ''), picked, back, picked ? back / picked : null];
                }),
              }
            : null
        }
      >
        {shelves.length > 0
          ? shelves.map((s) => (
              <BarList
                key={s.labels['device']}
                ariaLabel={`Pick-ups and put-backs at ${deviceName(store, s.labels['device'] ?? '')}`}
                unit="items"
                bars={[
                  { label: `Picked up · ${deviceName(store, s.labels['device'] ?? '')}`, value: s.total['pick_ups'] ?? 0 },
                  {
                    label: 'Put back',
                    value: s.total['put_backs'] ?? 0,
                    note: s.total['pick_ups']
                      ? `${formatNumber((100 * (s.total['put_backs'] ?? 0)) / (s.total['pick_ups'] ?? 1), 0)} % of picked up`
                      : undefined,
                  },
                ]}
              />
            ))
          : placeholder(shelf, 'No shelf events in this range.')}
      </Figure>
      <Figure
        title={`Shelf activity per ${per}`}
        rangeKey={rangeKey}
        wide
        caption={`Items picked up (bars) and put back (line) per ${per}, all shelves; ${range.label}.`}
        table={
          shelf.state === 'ok'
            ? {
                header: ['interval start', ...shelves.flatMap((s) => [`${s.labels['device'] ?? ''} picked up`, `${s.labels['device'] ?? ''} put back`])],
                rows: times.map((t, i) => [
                  iso(t),
                  ...shelves.flatMap((s) => [valuesAt(s, 'pick_ups', times)[i] ?? null, valuesAt(s, 'put_backs', times)[i] ?? null]),
                ]),
              }
            : null
        }
      >
        {shelves.length > 0 ? (
          <TimeChart
            ariaLabel={`Shelf pick-ups and put-backs per ${per}`}
            times={times}
            unit="items"
            timeZone={store.timezone}
            series={shelves.flatMap((s, i) => [
              {
                label: `picked up (${s.labels['device'] ?? ''})`,
                values: valuesAt(s, 'pick_ups', times),
                color: PALETTE[(2 * i) % PALETTE.length] ?? '#000',
                bars: true,
              },
              {
                label: `put back (${s.labels['device'] ?? ''})`,
                values: valuesAt(s, 'put_backs', times),
                color: PALETTE[(2 * i + 1) % PALETTE.length] ?? '#000',
              },
            ])}
          />
        ) : (
          placeholder(shelf, 'No shelf events in this range.')
        )}
      </Figure>
      {READINGS.map((reading) => {
        const withReading = envs.filter((s) => s.total[reading.field] !== null && s.total[reading.field] !== undefined);
        return (
          <Figure
            key={reading.field}
            title={`${reading.title} per ${per}`}
            rangeKey={rangeKey}
            caption={`Mean ${reading.title.toLowerCase()} per ${per} of each environment sensor, ${reading.unit}; ${range.label}.`}
            table={
              env.state === 'ok'
                ? {
                    header: ['interval start', ...withReading.map((s) => `${deviceName(store, s.labels['device'] ?? '')} (${reading.unit})`)],
                    rows: times.map((t, i) => [iso(t), ...withReading.map((s) => valuesAt(s, reading.field, times)[i] ?? null)]),
                  }
                : null
            }
          >
            {withReading.length > 0 ? (
              <TimeChart
                ariaLabel={`${reading.title} per ${per}`}
                times={times}
                unit={reading.unit}
                timeZone={store.timezone}
                series={withReading.map((s, i) => ({
                  label: deviceName(store, s.labels['device'] ?? ''),
                  values: valuesAt(s, reading.field, times),
                  color: PALETTE[i % PALETTE.length] ?? '#000',
                }))}
              />
            ) : (
              placeholder(env, `No ${reading.title.toLowerCase()} readings in this range.`)
            )}
          </Figure>
        );
      })}
    </div>
  );
}
