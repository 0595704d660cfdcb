/**
 * The store's floor plan from its configured layout (zone rectangles in metres, the shop front at
 * y = 0, drawn at the bottom), each zone coloured by a value (occupancy, dwell) on one sequential
 * scale, with the doors and touchpoints marked.
 */
import type { Store } from '../api';
import { formatNumber } from './bar-list';

/** From light (low) to dark (high) blue; text turns white where the fill is dark. */
export function scaleColour(value: number | null, max: number): { fill: string; text: string } {
  if (value === null || max <= 0) return { fill: '#eceff3', text: '#1d2330' };
  const t = Math.min(1, Math.max(0, value / max));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  const fill = `rgb(${mix(225, 20)}, ${mix(236, 66)}, ${mix(250, 140)})`;
  return { fill, text: t > 0.5 ? '#ffffff' : '#1d2330' };
}

export function FloorPlan(props: { store: Store; values: Record<string, number | null>; unit: string; ariaLabel: string }) {
  const layout = props.store.layout;
  if (!layout) return <p class="muted">This store has no layout in the config (stores[].layout): no floor plan to draw.</p>;
  const max = Math.max(0, ...Object.values(props.values).map((v) => v ?? 0));
  const flipY = (y: number, h = 0) => layout.depthM - y - h;
  return (
    <svg class="floor-plan" viewBox={`-0.5 -0.5 ${layout.widthM + 1} ${layout.depthM + 1}`} role="img" aria-label={props.ariaLabel}>
      {Object.entries(layout.zones).map(([id, { rect }]) => {
        const zone = props.store.zones.find((z) => z.id === id);
        const value = props.values[id] ?? null;
        const colour = scaleColour(value, max);
        const name = zone?.name ?? id;
        return (
          <g key={id} data-zone={id}>
            <rect x={rect.x} y={flipY(rect.y, rect.height)} width={rect.width} height={rect.height} fill={colour.fill} stroke="#1d2330" stroke-width="0.08">
              <title>{`${name}: ${formatNumber(value)} ${props.unit}`}</title>
            </rect>
            <text x={rect.x + rect.width / 2} y={flipY(rect.y, rect.height) + rect.height / 2 - 0.3} fill={colour.text} class="zone-name" text-anchor="middle">
              {name}
            </text>
            <text x={rect.x + rect.width / 2} y={flipY(rect.y, rect.height) + rect.height / 2 + 0.9} fill={colour.text} class="zone-value" text-anchor="middle">
              {`${formatNumber(value)} ${props.unit}`}
            </text>
          </g>
        );
      })}
      {(layout.doors ?? []).map((door) => (
        <g key={`${door.x},${door.y}`}>
          <rect x={door.x - 1} y={flipY(door.y) - 0.2} width={2} height={0.4} fill="#c2410c">
            <title>{door.name ?? 'Door'}</title>
          </rect>
        </g>
      ))}
      {Object.entries(layout.touchpoints ?? {}).map(([id, p]) => (
        <circle key={id} cx={p.x} cy={flipY(p.y)} r={0.35} fill="#7e22ce" stroke="#fff" stroke-width="0.08">
          <title>{props.store.touchpoints.find((t) => t.id === id)?.name ?? id}</title>
        </circle>
      ))}
    </svg>
  );
}
