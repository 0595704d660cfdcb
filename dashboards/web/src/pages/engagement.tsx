/** Touchpoint engagement: per touchpoint (by name), visitors exposed → those who chose to use it, and its use over time. */
import { touchpointName, type MetricSeries } from '../api';
import { formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { PALETTE, TimeChart } from '../charts/time-chart';
import { intervalStarts, iso, loadMetric, mergeByLabel, valuesAt } from '../metrics';
import { useData } from '../use-data';
import type { PageProps } from './page-props';

function Funnel(props: { stages: { label: string; value: number | null; ofFirst?: boolean }[]; name: string }) {
  const top = Math.max(1e-9, props.stages[0]?.value ?? 0);
  return (
    <ol class="funnel" aria-label={`Engagement funnel of ${props.name}`}>
      {props.stages.map((stage, i) => (
        <li key={stage.label}>
          <span class="bar-label">{stage.label}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${(100 * (stage.value ?? 0)) / top}%`, background: PALETTE[i] ?? '#1f5fbf' }} />
          </span>
          <span class="bar-value">
            {formatNumber(stage.value)}
            {i > 0 && stage.ofFirst && stage.value !== null && top > 1e-9 ? <span class="muted"> · {formatNumber((100 * stage.value) / top, 0)} %</span> : null}
          </span>
        </li>
      ))}
    </ol>
  );
}

export function EngagementPage({ store, range, rangeKey, nowMs }: PageProps) {
  const answer = useData(`engagement|${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`, (signal) =>
    loadMetric(store.id, { metric: 'engagement', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const funnel = useData(`funnel|${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`, (signal) =>
    loadMetric(store.id, { metric: 'funnel', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const identified = (tp: string): number | null =>
    funnel.state === 'ok'
      ? (mergeByLabel(funnel.data.series, 'touchpoint').find((s) => s.labels['touchpoint'] === tp)?.total['identified_interactions'] ?? 0)
      : null;
  const times = intervalStarts(range.fromMs, range.toMs, range.intervalMs);
  const per = range.interval === '1h' ? 'hour' : 'day';
  const devices =
    answer.state === 'ok'
      ? mergeByLabel(
          answer.data.series.filter((s) => s.labels['unit'] === undefined),
          'touchpoint',
        )
      : [];
  const people = (tp: string): MetricSeries | undefined =>
    answer.state === 'ok' ? answer.data.series.find((s) => s.labels['touchpoint'] === tp && s.labels['unit'] === 'people') : undefined;
  const placeholder = (
    <Placeholder
      loading={answer.state === 'loading'}
      error={answer.state === 'error' ? answer.message : ''}
      empty="No touchpoint use or exposure in this range."
    />
  );
  return (
    <div class="grid">
      <Figure
        title="Engagement funnel"
        rangeKey={rangeKey}
        wide
        caption={`Per touchpoint: visits exposed to it (app carriers at least 10 s in its zone) → those who used it (interactions linked to the visit by the app's beacon id); and all its interactions, anonymous ones included. ${range.label}. Identified: its interactions by a customer who identified themselves there (any visitor, not only app carriers: read it beside the others, not as a narrowing). Forwarded to the CRM is not a stage: the CRM outbox does not keep deliveries per touchpoint (docs/metrics-api.md, funnel).`}
        table={
          answer.state === 'ok'
            ? {
                header: [
                  'touchpoint',
                  'exposures (app carriers)',
                  'used it (linked)',
                  'engagement rate',
                  'all interactions',
                  'people exposed (est.)',
                  'people engaged (est.)',
                ],
                rows: devices.map((s) => {
                  const tp = s.labels['touchpoint'] ?? '';
                  return [
                    touchpointName(store, tp),
                    s.total['exposures'] ?? 0,
                    s.total['linked_interactions'] ?? 0,
                    s.total['engagement_rate'] ?? null,
                    identified(tp),
                    s.total['interactions'] ?? 0,
                    people(tp)?.total['people_exposed'] ?? null,
                    people(tp)?.total['people_engaged'] ?? null,
                  ];
                }),
              }
            : null
        }
      >
        {devices.length > 0 ? (
          <div class="funnels">
            {devices.map((s) => {
              const tp = s.labels['touchpoint'] ?? '';
              const name = touchpointName(store, tp);
              return (
                <div key={tp} class="funnel-card">
                  <h3>{name}</h3>
                  <Funnel
                    name={name}
                    stages={[
                      { label: 'Exposed (visits)', value: s.total['exposures'] ?? 0 },
                      { label: 'Used it (linked)', value: s.total['linked_interactions'] ?? 0, ofFirst: true },
                      { label: 'Identified', value: identified(tp) },
                    ]}
                  />
                  <p class="muted">
                    All interactions: {formatNumber(s.total['interactions'] ?? 0)}; people estimated:{' '}
                    {formatNumber(people(tp)?.total['people_exposed'] ?? null, 0)} exposed, {formatNumber(people(tp)?.total['people_engaged'] ?? null, 0)}{' '}
                    engaged (engagement-people/1).
                  </p>
                </div>
              );
            })}
          </div>
        ) : (
          placeholder
        )}
      </Figure>
      <Figure
        title={`Interactions per ${per}`}
        rangeKey={rangeKey}
        wide
        caption={`Every interaction with each touchpoint per ${per}, anonymous ones included; ${range.label}.`}
        table={
          answer.state === 'ok'
            ? {
                header: ['interval start', ...devices.map((s) => touchpointName(store, s.labels['touchpoint'] ?? ''))],
                rows: times.map((t, i) => [iso(t), ...devices.map((s) => valuesAt(s, 'interactions', times)[i] ?? null)]),
              }
            : null
        }
      >
        {devices.length > 0 ? (
          <TimeChart
            ariaLabel={`Interactions per touchpoint per ${per}`}
            times={times}
            unit="interactions"
            timeZone={store.timezone}
            series={devices.map((s, i) => ({
              label: touchpointName(store, s.labels['touchpoint'] ?? ''),
              values: valuesAt(s, 'interactions', times),
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
