/**
 * The store overview: people in the store now, footfall against the same period a week before,
 * passers-by and capture rate, visit duration — each with its period and how sure it is — and the
 * footfall and occupancy over the range.
 */
import { zoneName, type MetricAnswer } from '../api';
import { formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { PALETTE, TimeChart } from '../charts/time-chart';
import { findSeries, intervalStarts, iso, loadMetric, seriesWhere, valuesAt } from '../metrics';
import { weekBefore } from '../time-range';
import { useData } from '../use-data';
import type { PageProps } from './page-props';

const WEEK_MS = 7 * 86_400_000;

function Kpi(props: { label: string; value: string; detail: preact.ComponentChildren; testId: string }) {
  return (
    <div class="kpi card" data-kpi={props.testId}>
      <h2 class="kpi-label">{props.label}</h2>
      <p class="kpi-value">{props.value}</p>
      <p class="muted kpi-detail">{props.detail}</p>
    </div>
  );
}

function change(now: number | null | undefined, before: number | null | undefined): string {
  if (now === null || now === undefined || before === null || before === undefined || before === 0) return 'no comparison';
  const pct = (100 * (now - before)) / before;
  return `${pct >= 0 ? '+' : '−'}${formatNumber(Math.abs(pct), 0)} % on the week before`;
}

export function OverviewPage({ store, range, rangeKey, nowMs, live }: PageProps) {
  const before = weekBefore(range, nowMs);
  const key = `${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`;
  const footfall = useData(`footfall|${key}`, (signal) =>
    Promise.all([
      loadMetric(store.id, { metric: 'footfall', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
      loadMetric(store.id, { metric: 'footfall', fromMs: before.fromMs, toMs: before.toMs, interval: range.interval }, signal),
    ]),
  );
  const visits = useData(`visits|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'visits', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const capture = useData(`capture|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'capture', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const occupancy = useData(`occupancy|${key}`, (signal) =>
    loadMetric(store.id, { metric: 'occupancy', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const liveStore = live?.stores.find((s) => s.store === store.id);
  const times = intervalStarts(range.fromMs, range.toMs, range.intervalMs);
  const per = range.interval === '1h' ? 'hour' : 'day';

  const fused = footfall.state === 'ok' ? findSeries(footfall.data[0], { method: 'fused' }) : undefined;
  const fusedBefore = footfall.state === 'ok' ? findSeries(footfall.data[1], { method: 'fused' }) : undefined;
  const visitSeries = visits.state === 'ok' ? visits.data.series.find((s) => s.measurement === 'visit') : undefined;
  const captureSeries = capture.state === 'ok' ? capture.data.series.find((s) => s.total['capture_rate'] !== undefined) : undefined;
  const comparedTo = `${new Date(before.fromMs).toLocaleDateString('en-GB', { timeZone: store.timezone, weekday: 'short', day: 'numeric', month: 'short' })}`;

  return (
    <>
      <section class="kpis" aria-label="Key figures">
        <Kpi
          testId="devices-now"
          label="In the store now"
          value={liveStore ? formatNumber(liveStore.devicesNow) : '–'}
          detail={
            liveStore
              ? `devices seen in the last 60 s (beacon apps and phones; a person may carry both)${liveStore.devicesCapped ? ', at least' : ''}; the door counter since the gateway started: ${liveStore.footfall.in} in, ${liveStore.footfall.out} out`
              : 'waiting for the live counts'
          }
        />
        <Kpi
          testId="footfall"
          label="Footfall"
          value={fused ? formatNumber(fused.total['count']) : '–'}
          detail={
            fused ? (
              <>
                people who came in (fused: door counter corrected by its audit
                {fused.total['estimated'] ? ', hours without a counter report estimated from BLE' : ''})
                {fused.total['low'] !== null && fused.total['low'] !== undefined
                  ? `, 95 % range ${formatNumber(fused.total['low'], 0)}–${formatNumber(fused.total['high'], 0)}`
                  : ', range unknown (no counter audit)'}
                ; {change(fused.total['count'], fusedBefore?.total['count'])} (from {comparedTo}
                {range.includesNow ? ' to the same time' : ''}: {formatNumber(fusedBefore?.total['count'])})
              </>
            ) : (
              <Placeholder loading={footfall.state === 'loading'} error={footfall.state === 'error' ? footfall.message : ''} />
            )
          }
        />
        <Kpi
          testId="capture"
          label="Capture rate"
          value={captureSeries?.total['capture_rate'] != null ? `${formatNumber(100 * (captureSeries.total['capture_rate'] ?? 0), 0)} %` : '–'}
          detail={
            captureSeries
              ? `of the app carriers heard at the shop front, the share who came in: ${formatNumber(captureSeries.total['visits'])} visits, ${formatNumber(captureSeries.total['passers_by'])} passers-by (app carriers only)`
              : capture.state === 'error'
                ? capture.message
                : 'no passers-by or visits in this range'
          }
        />
        <Kpi
          testId="visit-duration"
          label="Average visit"
          value={visitSeries?.total['mean_duration_s'] != null ? `${formatNumber((visitSeries.total['mean_duration_s'] ?? 0) / 60, 1)} min` : '–'}
          detail={
            visitSeries
              ? `mean duration of ${formatNumber(visitSeries.total['count'])} visits of app carriers (${visitSeries.definition ?? 'visit'}); a visit counts once final, about 20 min after it ends`
              : visits.state === 'error'
                ? visits.message
                : 'no final visit in this range yet'
          }
        />
      </section>
      <div class="grid">
        <Figure
          title={`Footfall per ${per}`}
          rangeKey={rangeKey}
          wide
          caption={`People who came in per ${per} (fused figure, footfall-fused/1), with the same ${per}s a week before (${comparedTo}…) dashed; ${range.label}.`}
          summary={fused ? `${formatNumber(fused.total['count'])} people in the range, ${formatNumber(fusedBefore?.total['count'])} a week before.` : undefined}
          table={
            footfall.state === 'ok'
              ? {
                  header: ['interval start', 'people in', 'low (95 %)', 'high (95 %)', 'estimated from BLE', 'a week before'],
                  rows: times.map((t, i) => [
                    iso(t),
                    valuesAt(fused, 'count', times)[i],
                    valuesAt(fused, 'low', times)[i],
                    valuesAt(fused, 'high', times)[i],
                    valuesAt(fused, 'estimated', times)[i],
                    valuesAt(fusedBefore, 'count', times, WEEK_MS)[i],
                  ]),
                }
              : null
          }
        >
          {footfall.state === 'ok' ? (
            <TimeChart
              ariaLabel={`Footfall per ${per}, this period and a week before`}
              times={times}
              unit="people"
              timeZone={store.timezone}
              series={[
                { label: 'people in', values: valuesAt(fused, 'count', times), color: PALETTE[0] ?? '#000', bars: true },
                { label: 'a week before', values: valuesAt(fusedBefore, 'count', times, WEEK_MS), color: PALETTE[1] ?? '#000', dash: [6, 4] },
              ]}
            />
          ) : (
            <Placeholder loading={footfall.state === 'loading'} error={footfall.state === 'error' ? footfall.message : ''} />
          )}
        </Figure>
        <OccupancyFigure
          answer={occupancy.state === 'ok' ? occupancy.data : null}
          error={occupancy.state === 'error' ? occupancy.message : ''}
          {...{ store, range, rangeKey, times, per }}
        />
      </div>
    </>
  );
}

function OccupancyFigure(
  props: { answer: MetricAnswer | null; error: string; times: number[]; per: string } & Pick<PageProps, 'store' | 'range' | 'rangeKey'>,
) {
  const { answer, store, times } = props;
  const people = answer ? seriesWhere(answer, (s) => s.labels['unit'] === 'people' && s.labels['zone'] !== undefined) : [];
  return (
    <Figure
      title={`Occupancy by zone per ${props.per}`}
      rangeKey={props.rangeKey}
      wide
      caption={`Mean people in each zone per ${props.per} (occupancy-people/1: tracked app carriers scaled by people per BLE visit), ${props.range.label}. Minutes count once the engine's visits are final.`}
      table={
        answer
          ? {
              header: ['interval start', ...people.map((s) => `${zoneName(store, s.labels['zone'] ?? '')} (people)`)],
              rows: times.map((t, i) => [iso(t), ...people.map((s) => valuesAt(s, 'people_mean', times)[i] ?? null)]),
            }
          : null
      }
    >
      {answer && people.length > 0 ? (
        <TimeChart
          ariaLabel={`Mean people per zone per ${props.per}`}
          times={times}
          unit="people"
          timeZone={store.timezone}
          series={people.map((s, i) => ({
            label: zoneName(store, s.labels['zone'] ?? ''),
            values: valuesAt(s, 'people_mean', times),
            color: PALETTE[i % PALETTE.length] ?? '#000',
          }))}
        />
      ) : (
        <Placeholder loading={!answer && !props.error} error={props.error} empty="No occupancy in this range yet (minutes count once visits are final)." />
      )}
    </Figure>
  );
}
