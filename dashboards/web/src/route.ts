/** The page and its pickers live in the address bar's fragment: `#/overview?store=demo-store&range=today`. */

export const PAGES = [
  { id: 'overview', title: 'Overview' },
  { id: 'floor', title: 'Floor plan' },
  { id: 'dwell', title: 'Dwell and paths' },
  { id: 'engagement', title: 'Engagement' },
  { id: 'feedback', title: 'Feedback' },
  { id: 'shelves', title: 'Shelves and environment' },
  { id: 'devices', title: 'Devices', live: true },
  { id: 'pipeline', title: 'Pipeline', live: true },
] as const;

/** Pages of live figures: the range picker does not apply to them. */
export function isLivePage(page: PageId): boolean {
  return PAGES.some((p) => p.id === page && 'live' in p);
}
export type PageId = (typeof PAGES)[number]['id'];

export interface Route {
  page: PageId;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const match = /^#\/([a-z-]+)(?:\?(.*))?$/.exec(hash);
  const page = PAGES.find((p) => p.id === match?.[1])?.id ?? 'overview';
  return { page, params: new URLSearchParams(match?.[2] ?? '') };
}

export function routeHash(page: PageId, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const text = query.toString();
  return `#/${page}${text ? `?${text}` : ''}`;
}
