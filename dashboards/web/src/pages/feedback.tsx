/** Feedback: the scores given at each feedback touchpoint, their distribution and the mean score over time. */
import { touchpointName, type MetricSeries } from '../api';
import { BarList, formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { PALETTE, TimeChart } from '../charts/time-chart';
import { intervalStarts, iso, loadMetric, valuesAt } from '../metrics';
import { useData } from '../use-data';
import type { PageProps } from './page-props';

/** Mean score per interval from the counts per score (null where nobody gave one). */
export function meanScores(series: MetricSeries[], times: number[]): (number | null)[] {
  return times.map((_, i) => {
    let n = 0;
    let sum = 0;
    for (const s of series) {
      const count = valuesAt(s, 'count', times)[i] ?? 0;
      n += count;
      sum += count * Number(s.labels['score']);
    }
    return n > 0 ? sum / n : null;
  });
}

export function FeedbackPage({ store, range, rangeKey, nowMs }: PageProps) {
  const answer = useData(`feedback|${store.id}|${rangeKey}|${range.fromMs}|${Math.floor(nowMs / 60_000)}`, (signal) =>
    loadMetric(store.id, { metric: 'feedback', fromMs: range.fromMs, toMs: range.toMs, interval: range.interval }, signal),
  );
  const times = intervalStarts(range.fromMs, range.toMs, range.intervalMs);
  const per = range.interval === '1h' ? 'hour' : 'day';
  const series = answer.state === 'ok' ? answer.data.series.filter((s) => s.labels['score'] !== undefined) : [];
  const touchpoints = [...new Set(series.map((s) => s.labels['touchpoint'] ?? ''))];
  const placeholder = (
    <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} empty="No feedback in this range." />
  );
  return (
    <div class="grid">
      {touchpoints.length === 0 && (
        <Figure title="Feedback scores" rangeKey={rangeKey} caption={`Feedback interactions per score, ${range.label}.`} table={null}>
          {placeholder}
        </Figure>
      )}
      {touchpoints.map((tp) => {
        const own = series.filter((s) => s.labels['touchpoint'] === tp).sort((a, b) => Number(a.labels['score']) - Number(b.labels['score']));
        const total = own.reduce((n, s) => n + (s.total['count'] ?? 0), 0);
        const name = touchpointName(store, tp);
        return (
          <Figure
            key={tp}
            title={`Scores at ${name}`}
            rangeKey={rangeKey}
            caption={`How many feedback interactions gave each score at ${name}, ${range.label}.`}
            table={{
              header: ['score', 'count', 'share'],
              rows: own.map((s) => [s.labels['score'] ?? '', s.total['count'] ?? 0, total ? (s.total['count'] ?? 0) / total : null]),
            }}
          >
            <BarList
              ariaLabel={`Score distribution at ${name}`}
              unit=""
              bars={own.map((s) => ({
                label: `Score ${s.labels['score'] ?? ''}`,
                value: s.total['count'] ?? 0,
                note: total ? `${formatNumber((100 * (s.total['count'] ?? 0)) / total, 0)} %` : undefined,
              }))}
            />
          </Figure>
        );
      })}
      {touchpoints.length > 0 && (
        <Figure
          title={`Mean score per ${per}`}
          rangeKey={rangeKey}
          wide
          caption={`The mean of the scores given per ${per} at each feedback touchpoint; ${range.label}.`}
          table={{
            header: ['interval start', ...touchpoints.map((tp) => touchpointName(store, tp))],
            rows: times.map((t, i) => [
              iso(t),
              ...touchpoints.map(
                (tp) =>
                  meanScores(
                    series.filter((s) => s.labels['touchpoint'] === tp),
                    times,
                  )[i] ?? null,
              ),
            ]),
          }}
        >
          <TimeChart
            ariaLabel={`Mean feedback score per ${per}`}
            times={times}
            unit="score"
            timeZone={store.timezone}
            series={touchpoints.map((tp, i) => ({
              label: touchpointName(store, tp),
              values: meanScores(
                series.filter((s) => s.labels['touchpoint'] === tp),
                times,
              ),
              color: PALETTE[i % PALETTE.length] ?? '#000',
            }))}
          />
        </Figure>
      )}
    </div>
  );
}
