/** The pipeline: ingest per minute over the last hour, rejections by reason, the event log and each sink's lag and dead letters, live. */
import { apiGet, type PipelineAnswer } from '../api';
import { BarList, formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { TimeChart } from '../charts/time-chart';
import { useData, useTick } from '../use-data';
import type { PageProps } from './page-props';

const REFRESH_MS = 10_000;

function bytes(n: number): string {
  return n >= 1e9 ? `${formatNumber(n / 1e9)} GB` : n >= 1e6 ? `${formatNumber(n / 1e6)} MB` : `${formatNumber(n / 1e3)} kB`;
}

export function PipelinePage({ store }: PageProps) {
  const tick = useTick(REFRESH_MS);
  const answer = useData('pipeline', (signal) => apiGet<PipelineAnswer>('/api/v1/pipeline', signal), tick);
  if (answer.state !== 'ok')
    return (
      <Figure title="Pipeline" rangeKey="now" caption="The gateway's ingest, event log and sinks, live." table={null}>
        <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} />
      </Figure>
    );
  const p = answer.data;
  const times = p.ingest.perMinute.map((m) => Date.parse(m.minute));
  const lagging = p.sinks.reduce((max, s) => Math.max(max, s.lag.seconds), 0);
  return (
    <>
      <p class="muted">
        The whole gateway (every store), live, not the range picked; refreshed every {REFRESH_MS / 1000} s. Counting began{' '}
        {new Date(p.ingest.sampledSince).toLocaleString('en-GB', { timeZone: store.timezone })}.
      </p>
      <section class="kpis" aria-label="Pipeline figures">
        <div class="kpi card" data-kpi="accepted">
          <h2 class="kpi-label">Messages accepted</h2>
          <p class="kpi-value">{formatNumber(p.ingest.totals.accepted)}</p>
          <p class="muted kpi-detail">
            of {formatNumber(p.ingest.totals.received)} received since start; {formatNumber(p.ingest.totals.rejected)} rejected,{' '}
            {formatNumber(p.ingest.totals.duplicate)} duplicates
          </p>
        </div>
        <div class="kpi card" data-kpi="log">
          <h2 class="kpi-label">Event log</h2>
          <p class="kpi-value">{formatNumber((100 * p.log.bytes) / Math.max(1, p.log.quotaBytes), 0)} % full</p>
          <p class="muted kpi-detail">
            {formatNumber(p.log.records)} records, {bytes(p.log.bytes)} of {bytes(p.log.quotaBytes)} in {p.log.segments} segments
            {p.log.full ? '; FULL: new messages are refused' : ''}
          </p>
        </div>
        <div class="kpi card" data-kpi="lag">
          <h2 class="kpi-label">Largest sink lag</h2>
          <p class="kpi-value">{formatNumber(lagging, 0)} s</p>
          <p class="muted kpi-detail">{formatNumber(p.deadLetters)} dead letters over all sinks</p>
        </div>
      </section>
      <div class="grid">
        <Figure
          title="Ingest per minute"
          rangeKey="last-hour"
          wide
          caption="Messages accepted into the event log (bars) and rejected (line) per minute over the last hour; the last minute is still running."
          table={{ header: ['minute', 'accepted', 'rejected'], rows: p.ingest.perMinute.map((m) => [m.minute, m.accepted, m.rejected]) }}
        >
          <TimeChart
            ariaLabel="Messages accepted and rejected per minute"
            times={times}
            unit="messages"
            timeZone={store.timezone}
            series={[
              { label: 'accepted', values: p.ingest.perMinute.map((m) => m.accepted), color: '#1f5fbf', bars: true },
              { label: 'rejected', values: p.ingest.perMinute.map((m) => m.rejected), color: '#be123c' },
            ]}
          />
        </Figure>
        <Figure
          title="Rejections by reason"
          rangeKey="since-start"
          caption="Messages refused since the gateway started, by reason (the installer's detail is at /api/v1/rejections, operator scope)."
          table={{ header: ['reason', 'count', 'what it means'], rows: p.rejections.map((r) => [r.reason, r.count, r.description]) }}
        >
          {p.rejections.length > 0 ? (
            <BarList ariaLabel="Rejections by reason" unit="" color="#be123c" bars={p.rejections.map((r) => ({ label: r.reason, value: r.count }))} />
          ) : (
            <p class="muted">No message rejected since the gateway started.</p>
          )}
        </Figure>
        <Figure
          title="Sinks"
          rangeKey="now"
          wide
          tableOpen
          caption="Each consumer of the event log: its state, how far behind it is (records not settled, age of the oldest), what it delivered and set aside."
          table={{
            header: ['sink', 'state', 'lag (records)', 'lag (s)', 'delivered', 'dead letters', 'expired', 'holds back ingest'],
            rows: p.sinks.map((s) => [
              s.name,
              s.state,
              s.lag.records,
              Math.round(s.lag.seconds),
              s.delivered,
              s.deadLettered,
              s.expired,
              s.holdsBackIngest ? 'yes' : 'no',
            ]),
          }}
        />
      </div>
    </>
  );
}
