/** Placeholder until its data routes land. */
import type { PageProps } from './page-props';

export function DevicesPage(_props: PageProps) {
  return <p class="muted">Coming in this change.</p>;
}
