/**
 * Plays a scenario's InfluxDB outages during a run: when the simulated clock reaches an outage's start
 * the database is stopped, at its end started again, and whatever happens to the run, a database this
 * player stopped is started before the run returns.
 */
import { SimulationOptionsError } from './errors.js';
import type { PlayedEvent } from './scenario-effects.js';

export type InfluxOutageEvent = Extract<PlayedEvent, { type: 'influx_outage' }>;

/** Stops (`stop`) or starts again (`start`) the InfluxDB the gateway writes to. */
export type InfluxOutageControl = (event: InfluxOutageEvent, phase: 'stop' | 'start') => Promise<void>;

export class InfluxOutagePlayer {
  private next = 0;
  private down: InfluxOutageEvent | undefined;

  /** Throws SimulationOptionsError when there are outages to play and nothing to play them with. */
  constructor(
    private readonly outages: readonly InfluxOutageEvent[],
    private readonly control: InfluxOutageControl | undefined,
    private readonly log: (line: string) => void,
  ) {
    if (outages.length > 0 && control === undefined) {
      const problem =
        'scenario event influx_outage: nothing can stop InfluxDB in this run; give the event `stop` and `start` shell commands (storeloop simulate) or play the scenario in storeloop demo';
      throw new SimulationOptionsError(problem, [problem]);
    }
  }

  /** Moves the outages on to simulated time `t`: stops or starts the database as their windows open and close. */
  async reach(t: number): Promise<void> {
    if (this.down && t >= this.down.to) await this.end();
    const upcoming = this.outages[this.next];
    if (!this.down && upcoming && t >= upcoming.from) {
      this.next += 1;
      this.log(`scenario: InfluxDB outage from ${new Date(upcoming.from).toISOString()} to ${new Date(upcoming.to).toISOString()} (simulated): stopping it`);
      await this.control?.(upcoming, 'stop');
      this.down = upcoming;
      // an outage shorter than the gap to the next message ends at once
      if (t >= upcoming.to) await this.end();
    }
  }

  /** Starts the database again if an outage is still on (the run ended or failed inside it). */
  async finish(): Promise<void> {
    if (this.down) await this.end();
  }

  private async end(): Promise<void> {
    const event = this.down as InfluxOutageEvent;
    this.down = undefined;
    this.log('scenario: InfluxDB outage over: starting it again');
    await this.control?.(event, 'start');
  }
}
