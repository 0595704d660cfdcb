/**
 * The app shell: login, the store and range pickers, the page navigation, the live counts shared by
 * the pages, and the page the address bar names.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import { apiGet, currentSession, login, logout, storesPath, whenUnauthenticated, type Session, type Store } from './api';
import { useLive } from './live';
import { LoginForm } from './login-form';
import { DevicesPage } from './pages/devices';
import { DwellPage } from './pages/dwell';
import { EngagementPage } from './pages/engagement';
import { FeedbackPage } from './pages/feedback';
import { FloorPage } from './pages/floor';
import { OverviewPage } from './pages/overview';
import type { PageProps } from './pages/page-props';
import { PipelinePage } from './pages/pipeline';
import { ShelvesPage } from './pages/shelves';
import { Pickers } from './pickers';
import { resetReady } from './ready';
import { isLivePage, PAGES, parseRoute, routeHash, type PageId } from './route';
import { formatRangeChoice, parseRangeChoice, resolveRange, type RangeChoice } from './time-range';
import { useData } from './use-data';

const PAGE_COMPONENTS: Record<PageId, (props: PageProps) => preact.JSX.Element> = {
  overview: OverviewPage,
  floor: FloorPage,
  dwell: DwellPage,
  engagement: EngagementPage,
  feedback: FeedbackPage,
  shelves: ShelvesPage,
  devices: DevicesPage,
  pipeline: PipelinePage,
};

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [loginMessage, setLoginMessage] = useState('');
  useEffect(() => {
    whenUnauthenticated(() => {
      setSession(null);
      setLoginMessage('Your session has ended (logged out, or the token was revoked or expired): log in again.');
    });
    // a login link (the demo prints one): the fragment never reaches the server and leaves the address bar at once
    const link = /^#token=(.+)$/.exec(location.hash);
    if (link?.[1]) {
      history.replaceState(null, '', location.pathname + location.search + routeHash('overview', {}));
      login(decodeURIComponent(link[1])).then(setSession, (err: unknown) => {
        setSession(null);
        setLoginMessage(err instanceof Error ? err.message : String(err));
      });
      return;
    }
    // the stores are asked for beside the session, not after it: one round trip less before the first figure
    earlyStores = apiGet<{ stores: Store[] }>(storesPath).catch(() => null);
    currentSession().then(setSession, () => setSession(null));
  }, []);
  if (session === undefined) return <p class="muted">Checking your session…</p>;
  if (session === null)
    return (
      <LoginForm
        message={loginMessage}
        onLogin={(s) => {
          setLoginMessage('');
          setSession(s);
        }}
      />
    );
  return (
    <Dashboards
      session={session}
      onLogout={() => {
        void logout().then(() => {
          setSession(null);
          setLoginMessage('Logged out.');
        });
      }}
    />
  );
}

/** The stores' answer asked for at start, used once by the first view. */
let earlyStores: Promise<{ stores: Store[] } | null> | null = null;

function loadStores(signal: AbortSignal): Promise<{ stores: Store[] }> {
  const early = earlyStores;
  earlyStores = null;
  return (early ?? Promise.resolve(null)).then((answer) => answer ?? apiGet<{ stores: Store[] }>(storesPath, signal));
}

function Dashboards(props: { session: Session; onLogout: () => void }) {
  const hash = useHash();
  const route = parseRoute(hash);
  const stores = useData('stores', loadStores);
  const { live, via, updatedAt } = useLive(true);
  const choice = parseRangeChoice(route.params.get('range'));
  const rangeKey = formatRangeChoice(choice);
  const storeList = stores.state === 'ok' ? stores.data.stores : [];
  const store = storeList.find((s) => s.id === route.params.get('store')) ?? storeList[0];
  // "now" moves with the page, the pickers and the live updates' minute, not with every render
  const minute = Math.floor(Date.now() / 60_000);
  const nowMs = useMemo(() => Date.now(), [route.page, rangeKey, store?.id, minute]);
  const range = useMemo(() => (store ? resolveRange(choice, store.timezone, nowMs) : undefined), [store?.id, rangeKey, nowMs]);
  // a new view is not ready until what it starts is done: reset while rendering, before its parts hold
  const view = `${route.page}|${rangeKey}|${store?.id ?? ''}`;
  const shownView = useRef('');
  if (shownView.current !== view) {
    shownView.current = view;
    resetReady();
  }
  const go = (page: PageId, storeId: string | undefined, next: RangeChoice) => {
    location.hash = routeHash(page, { store: storeId, range: formatRangeChoice(next) });
  };
  const Page = PAGE_COMPONENTS[route.page];
  const title = PAGES.find((p) => p.id === route.page)?.title ?? '';
  useEffect(() => {
    document.title = `${title}${store ? ` · ${store.name ?? store.id}` : ''} · storeloop`;
  }, [title, store?.id]);
  const history = live?.history;
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <div class="brand">storeloop</div>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a href={routeHash(p.id, { store: store?.id, range: rangeKey })} aria-current={p.id === route.page ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="session">
          <span class="muted">{props.session.name}</span>{' '}
          <button type="button" class="small" onClick={props.onLogout}>
            Log out
          </button>
        </div>
      </header>
      {storeList.length > 0 && store && (
        <section aria-label="Store and period">
          <Pickers stores={storeList} store={store.id} range={choice} onChange={(storeId, next) => go(route.page, storeId, next)} />
        </section>
      )}
      {history && !history.done && (
        <p class="banner" role="status" aria-label="History still filling">
          History is still filling in the background: simulated up to {new Date(history.reached).toLocaleString('en-GB', { timeZone: store?.timezone })} of{' '}
          {new Date(history.from).toLocaleDateString('en-GB', { timeZone: store?.timezone })} –{' '}
          {new Date(history.to).toLocaleDateString('en-GB', { timeZone: store?.timezone })}. Figures after that point are not there yet.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <h1>
          {title}
          {store && <span class="muted"> · {store.name ?? store.id}</span>}
        </h1>
        {range && !isLivePage(route.page) && <p class="muted period">Period: {range.label}</p>}
        {stores.state === 'error' && (
          <p class="error" role="alert">
            Could not load the stores: {stores.message}
          </p>
        )}
        {stores.state === 'ok' && storeList.length === 0 && <p>The gateway has no store in its config.</p>}
        {store && range && <Page store={store} range={range} rangeKey={rangeKey} nowMs={nowMs} live={live} />}
      </main>
      <footer class="muted">
        Live counts {via === 'stream' ? 'streamed' : via === 'polling' ? 'polled every 5 s' : 'connecting'}
        {updatedAt ? `, updated ${new Date(updatedAt).toLocaleTimeString('en-GB')}` : ''}. <a href="/docs">API (OpenAPI)</a>
      </footer>
    </>
  );
}
