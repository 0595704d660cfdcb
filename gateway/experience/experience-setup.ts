/** The experience engine's sink as the config asks for it (sinks.experience), with its runner options. */
import { join } from 'node:path';

import type { Registry } from 'prom-client';

import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import type { EventLog } from '../log/event-log.js';
import { DerivedLog } from '../log/derived-log.js';
import type { MessageIndex } from '../log/message-index.js';
import { DEFAULT_SINK_RUNNER_OPTIONS, type SinkRunnerOptions } from '../sinks/sink-runner.js';
import { ExperienceSink } from './experience-sink.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';

/** The sink and its runner options, or null when it is off or no store has a layout to place visitors on. */
export function experienceSinkFor(
  config: Config,
  deps: { eventLog: EventLog; index: MessageIndex; log: Logger; registry: Registry },
): { sink: ExperienceSink; options: SinkRunnerOptions } | null {
  const experience = config.sinks.experience;
  if (!experience.enabled || !config.stores.some((store) => store.layout !== undefined)) return null;
  const sink = new ExperienceSink({
    stores: config.stores,
    dir: join(config.state.dir, 'experience'),
    derivedLog: new DerivedLog({ eventLog: deps.eventLog, index: deps.index }),
    log: deps.log,
    registry: deps.registry,
    finalizeEveryMs: experience.finalizeEveryMinutes * 60_000,
    maxSourceLagMs: experience.maxSourceLagMinutes * 60_000,
    lateToleranceMs: experience.lateToleranceSeconds * 1000,
    maxVisitMs: experience.maxVisitMinutes * 60_000,
    maxOpenDevices: experience.maxOpenDevices,
    occupancyHoldMs: experience.occupancyHoldMinutes * 60_000,
    closedHoursAreStaff: experience.closedHoursAreStaff,
    params: { ...DEFAULT_PRESENCE_PARAMS, calibrate: experience.calibrate },
  });
  return {
    sink,
    options: {
      ...DEFAULT_SINK_RUNNER_OPTIONS,
      checkpointIntervalMs: experience.checkpointIntervalMs,
      maxInFlight: 1,
      lagBudget: { seconds: experience.lagBudgetSeconds, bytes: config.eventLog.quotaBytes },
    },
  };
}
