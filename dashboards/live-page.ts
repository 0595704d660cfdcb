/**
 * The first plain page of the gateway: each store's live counts, refreshed every 2 s from
 * GET /api/v1/live. No build step and no external assets, so it works on a store box offline.
 */
export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>storeloop · live</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; } .muted { color: #667; font-size: .85rem; }
  .store { background: #fff; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; box-shadow: 0 1px 3px #0002; }
  .kpis { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
  .kpi b { display: block; font-size: 1.8rem; } table { border-collapse: collapse; min-width: 22rem; }
  td, th { text-align: left; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid #eee; } .bar { background: #4a7bd0; height: .7rem; border-radius: 3px; }
  nav a { margin-right: 1rem; }
</style>
</head>
<body>
<h1>storeloop · live store counts</h1>
<div class="muted">Devices seen in the last 60 s by zone (a person may carry a beacon app and a phone), footfall from the door counters, touchpoint use in the last hour. <span id="updated"></span></div>
<nav class="muted"><a href="/docs">API (OpenAPI UI)</a><a href="/metrics">metrics</a><a href="/api/v1/rejections">rejections</a><a href="/api/v1/stores">stores</a></nav>
<div id="stores">loading…</div>
<script>
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
async function refresh() {
  try {
    const res = await fetch('/api/v1/live');
    const { stores } = await res.json();
    document.getElementById('stores').innerHTML = stores.map((s) => {
      const max = Math.max(1, ...s.zones.map((z) => z.devicesNow));
      const zones = s.zones.map((z) => '<tr><td>' + esc(z.name || z.id) + '</td><td data-zone="' + esc(z.id) + '">' + z.devicesNow + '</td><td><div class="bar" style="width:' + (120 * z.devicesNow / max) + 'px"></div></td></tr>').join('');
      const tps = s.interactionsLastHour.map((t) => '<tr><td>' + esc(t.touchpoint) + '</td><td>' + t.count + '</td></tr>').join('') || '<tr><td colspan="2" class="muted">none yet</td></tr>';
      const msgs = Object.entries(s.messages).map(([k, v]) => esc(k) + ' ' + v).join(' · ');
      const agents = s.agents.map((a) => esc(a.id) + ': ' + esc(a.state)).join(' · ') || 'no agent status yet';
      return '<section class="store" data-store="' + esc(s.store) + '"><h2>' + esc(s.name || s.store) + '</h2>'
        + '<div class="kpis"><div class="kpi"><b id="devices-now">' + s.devicesNow + '</b>devices in store now</div>'
        + '<div class="kpi"><b id="footfall-in">' + s.footfall.in + '</b>entered (counter)</div>'
        + '<div class="kpi"><b>' + (s.footfall.in - s.footfall.out) + '</b>occupancy (counter)</div></div>'
        + '<table><tr><th>zone</th><th>devices</th><th></th></tr>' + zones + '</table>'
        + '<h3>Touchpoints, last hour</h3><table>' + tps + '</table>'
        + '<p class="muted">messages: ' + msgs + '<br>agents: ' + agents + '<br>last message: ' + esc(s.lastMessageAt || 'none') + '</p></section>';
    }).join('');
    document.getElementById('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
  } catch (err) {
    document.getElementById('updated').textContent = 'Gateway unreachable: ' + err;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
