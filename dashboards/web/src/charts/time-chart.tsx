/** A time series chart (uPlot: small and fast) of one or more series over the same intervals. */
import { useLayoutEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { holdReady } from '../ready';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
  /** Bars instead of a line (counts per interval). */
  bars?: boolean;
}

export const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#0e7490', '#be123c', '#4d7c0f'];

export function TimeChart(props: { times: number[]; series: ChartSeries[]; unit: string; timeZone: string; height?: number; ariaLabel: string }) {
  const holder = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = holder.current;
    if (!el) return;
    const release = holdReady();
    const width = Math.max(280, el.clientWidth);
    const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
    const opts: uPlot.Options = {
      width,
      height: props.height ?? 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), props.timeZone),
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { label: props.unit, size: 60 }],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(s.dash ? { dash: s.dash } : {}),
          ...(s.bars && bars ? { paths: bars, fill: `${s.color}55` } : {}),
          spanGaps: false,
        })),
      ],
      hooks: { ready: [() => release()] },
    };
    const data: uPlot.AlignedData = [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
      release();
    };
  }, [props.times, props.series, props.unit, props.timeZone, props.height]);
  return <div ref={holder} class="chart" role="img" aria-label={props.ariaLabel} />;
}
