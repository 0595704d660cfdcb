/** Devices: the store's edge agents (state, queue depth) and every configured sensor, touchpoint and device (online, last seen, battery), live. */
import { apiGet, type DevicesAnswer } from '../api';
import { formatNumber } from '../charts/bar-list';
import { Figure, Placeholder } from '../charts/figure';
import { useData, useTick } from '../use-data';
import type { PageProps } from './page-props';

const REFRESH_MS = 10_000;

function when(iso: string | null, timeZone: string): string {
  return iso === null ? 'not since the gateway started' : new Date(iso).toLocaleString('en-GB', { timeZone });
}

export function DevicesPage({ store }: PageProps) {
  const tick = useTick(REFRESH_MS);
  const answer = useData(`devices|${store.id}`, (signal) => apiGet<DevicesAnswer>(`/api/v1/stores/${encodeURIComponent(store.id)}/devices`, signal), tick);
  if (answer.state !== 'ok')
    return (
      <Figure title="Devices" rangeKey="now" caption="Agents and devices of the store, live." table={null}>
        <Placeholder loading={answer.state === 'loading'} error={answer.state === 'error' ? answer.message : ''} />
      </Figure>
    );
  const { agents, devices, onlineWindowSeconds } = answer.data;
  const online = devices.filter((d) => d.online).length;
  const battery = (d: DevicesAnswer['devices'][number]) =>
    d.battery.pct ? `${formatNumber(d.battery.pct.value, 0)} %` : d.battery.mv ? `${formatNumber(d.battery.mv.value, 0)} mV` : null;
  return (
    <>
      <p class="muted">
        Live, not the range picked: in memory since the gateway started, refreshed every {REFRESH_MS / 1000} s. Online: seen in the last {onlineWindowSeconds} s
        and no offline status since.
      </p>
      <section class="kpis" aria-label="Device figures">
        <div class="kpi card" data-kpi="agents-online">
          <h2 class="kpi-label">Edge agents online</h2>
          <p class="kpi-value">
            {agents.filter((a) => a.online).length} of {agents.length}
          </p>
          <p class="muted kpi-detail">queue depth: {agents.map((a) => `${a.id} ${a.queue ? a.queue.depth : '–'}`).join(', ') || 'none configured'}</p>
        </div>
        <div class="kpi card" data-kpi="devices-online">
          <h2 class="kpi-label">Sensors, touchpoints and devices online</h2>
          <p class="kpi-value">
            {online} of {devices.length}
          </p>
          <p class="muted kpi-detail">
            {devices.length - online > 0
              ? `not heard: ${devices
                  .filter((d) => !d.online)
                  .map((d) => d.name ?? d.id)
                  .join(', ')}`
              : 'every one heard'}
          </p>
        </div>
      </section>
      <div class="grid">
        <Figure
          title="Edge agents"
          rangeKey="now"
          wide
          tableOpen
          caption="Each agent's latest status, its store-and-forward queue (messages not yet acknowledged by the gateway) and what needs a person."
          table={{
            header: ['agent', 'online', 'state', 'since', 'last message', 'queue depth', 'version', 'detail'],
            rows: agents.map((a) => [
              a.id,
              a.online ? 'yes' : 'no',
              a.state,
              when(a.since, store.timezone),
              when(a.lastMessageAt, store.timezone),
              a.queue?.depth ?? null,
              a.version,
              a.detail,
            ]),
          }}
        />
        <Figure
          title="Sensors, touchpoints and devices"
          rangeKey="now"
          wide
          tableOpen
          caption="Every configured source: when it was last heard and its battery (environment events; a beacon's Eddystone TLM as its device's battery_mv)."
          table={{
            header: ['name', 'kind', 'type', 'zone', 'online', 'last seen', 'battery', 'battery read'],
            rows: devices.map((d) => [
              d.name ?? d.id,
              d.role,
              d.type,
              d.zoneName ?? d.zone,
              d.online ? 'yes' : 'no',
              when(d.lastSeenAt, store.timezone),
              battery(d),
              (d.battery.pct?.at ?? d.battery.mv?.at) ? when(d.battery.pct?.at ?? d.battery.mv?.at ?? null, store.timezone) : null,
            ]),
          }}
        />
      </div>
    </>
  );
}
