/**
 * The first plain page of the gateway: each store's live counts, refreshed every 2 s from
 * GET /api/v1/live. No build step and no external assets, so it works on a store box offline.
 *
 * The page itself holds no data. Its reader logs in with an API token (scope `analyst` or more): the
 * form trades it for an HttpOnly session cookie (POST /api/v1/session), which every later request
 * carries, so no script ever holds the token after login. `/#token=…` logs in from a link (the demo's):
 * the fragment never reaches the server, and the page removes it from the address bar at once.
 */
export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>storeloop · live</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; } .muted { color: #667; font-size: .85rem; }
  .store { background: #fff; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; box-shadow: 0 1px 3px #0002; }
  .kpis { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
  .kpi b { display: block; font-size: 1.8rem; } table { border-collapse: collapse; min-width: 22rem; }
  td, th { text-align: left; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid #eee; } .bar { background: #4a7bd0; height: .7rem; border-radius: 3px; }
  nav a { margin-right: 1rem; }
  form { background: #fff; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; box-shadow: 0 1px 3px #0002; max-width: 34rem; }
  label { display: block; font-weight: 600; margin-bottom: .3rem; } input { font: inherit; width: 100%; box-sizing: border-box; padding: .35rem; }
  button { font: inherit; margin-top: .6rem; padding: .3rem .9rem; } .error { color: #a4161a; } #session { margin-left: 1rem; }
  :focus-visible { outline: 3px solid #4a7bd0; outline-offset: 2px; }
</style>
</head>
<body>
<h1>storeloop · live store counts</h1>
<main>
<form id="login" hidden aria-labelledby="login-title">
  <h2 id="login-title">Log in</h2>
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" spellcheck="false" required aria-describedby="token-help login-error">
  <p id="token-help" class="muted">A token with the analyst scope (or operator, admin): <code>storeloop tokens add --name NAME --scope analyst</code>. The browser keeps a session cookie, not the token.</p>
  <button type="submit">Log in</button>
  <p id="login-error" class="error" role="alert"></p>
</form>
<div id="app" hidden>
<div class="muted">Devices seen in the last 60 s by zone (a person may carry a beacon app and a phone), footfall from the door counters, touchpoint use in the last hour. <span id="updated" role="status"></span></div>
<nav class="muted"><a href="/docs">API (OpenAPI UI)</a><a href="/metrics">metrics</a><a href="/api/v1/rejections">rejections</a><a href="/api/v1/stores">stores</a><span id="session"></span> <button type="button" id="logout">Log out</button></nav>
<div id="stores">loading…</div>
</div>
</main>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
let timer;
function showLogin(message) {
  clearInterval(timer);
  timer = undefined;
  $('app').hidden = true;
  $('stores').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').focus();
}
function showApp(session) {
  $('login').hidden = true;
  $('app').hidden = false;
  $('session').textContent = 'Logged in as ' + session.name + ' (' + session.scopes.join(', ') + ').';
  if (timer === undefined) {
    refresh();
    timer = setInterval(refresh, 2000);
  }
}
async function refresh() {
  try {
    const res = await fetch('/api/v1/live');
    if (res.status === 401) return showLogin('Your session has ended (logged out, or the token was revoked or expired): log in again.');
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const { stores } = await res.json();
    $('stores').innerHTML = stores.map((s) => {
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
    $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() + '.';
  } catch (err) {
    $('updated').textContent = 'Gateway unreachable: ' + err;
  }
}
async function login(token) {
  try {
    const res = await fetch('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    if (res.status === 201) {
      $('token').value = '';
      return showApp(await res.json());
    }
    const body = await res.json().catch(() => ({}));
    showLogin(body.error || 'Login failed (HTTP ' + res.status + ').');
  } catch (err) {
    showLogin('Gateway unreachable: ' + err);
  }
}
$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  login($('token').value.trim());
});
$('logout').addEventListener('click', async () => {
  await fetch('/api/v1/session', { method: 'DELETE' }).catch(() => undefined);
  showLogin('Logged out.');
});
async function start() {
  const link = /^#token=(.+)$/.exec(location.hash);
  if (link) {
    history.replaceState(null, '', location.pathname + location.search);
    return login(decodeURIComponent(link[1]));
  }
  const res = await fetch('/api/v1/session').catch(() => undefined);
  if (res && res.ok) showApp(await res.json());
  else showLogin();
}
start();
</script>
</body>
</html>
`;
