/** Durations on the command line (`90s`, `30m`, `1h30m`): the simulator's parser, shared by every command. */
export { parseDuration } from '../simulators/duration.js';
