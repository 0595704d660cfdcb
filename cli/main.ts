/** The `storeloop` command line: wiring only; each command lives in cli/commands/. */
import { Command, Option } from 'commander';

import { parseDuration } from '../lib/duration.js';
import { STORELOOP_VERSION } from '../lib/version.js';
import { DEFAULT_RADIO_OPTIONS, RADIO_FLAGS } from '../simulators/radio-options.js';
import { DEFAULT_DELIVERY_OPTIONS, DELIVERY_FLAGS } from '../simulators/delivery-options.js';
import { CONSENT_FLAGS, DEFAULT_CONSENT_OPTIONS } from '../simulators/consent-options.js';

// each command loads its parts (gateway, broker, sqlite, BlueZ…) only when it runs, so `--help`
// and a mistyped option answer at once
const commands = {
  configCheck: () => import('./commands/config-check-command.js'),
  credentials: () => import('./commands/credentials-command.js'),
  demo: () => import('./commands/demo-command.js'),
  edge: () => import('./commands/edge-command.js'),
  evaluate: () => import('./commands/evaluate-command.js'),
  gateway: () => import('./commands/gateway-command.js'),
  simulate: () => import('./commands/simulate-command.js'),
  sinks: () => import('./commands/sinks-command.js'),
  tokens: () => import('./commands/tokens-command.js'),
};

const program = new Command();
program
  .name('storeloop')
  .description('In-store IoT ingestion gateway: BLE, wifi presence, smart devices and touchpoints over MQTT into InfluxDB.')
  .version(STORELOOP_VERSION)
  .showHelpAfterError();

program
  .command('gateway')
  .description('run the gateway: MQTT broker (TCP and WebSocket), event log, InfluxDB sink, HTTP API')
  .option('-c, --config <file>', 'YAML config file (default: the built-in demo store); STORELOOP_* env vars override it')
  .action(async (opts: { config?: string }) => (await commands.gateway()).runGatewayCommand(opts));

program
  .command('edge')
  .description('run the store edge agent: sources and local ingress into an on-disk queue, forwarded to the gateway over MQTT')
  .requiredOption('-c, --config <file>', "the agent's YAML config (docs/edge.md); STORELOOP_EDGE_* env vars override it")
  .option('--check', 'only validate the config file (with env overrides and source blocks), print a summary, exit 1 on errors')
  .action(async (opts: { config: string; check?: boolean }) => (await commands.edge()).runEdgeCommand(opts));

const simulateCommand = program
  .command('simulate')
  .description('publish a seeded, realistic store simulation to a gateway and write its ground truth')
  .option('-u, --url <url>', 'broker URL: mqtt://host:port or ws://host:port/mqtt', 'mqtt://127.0.0.1:1883')
  .option('--username <name>', 'MQTT identity to publish as, a publisher of the store (or STORELOOP_MQTT_USERNAME); its password in STORELOOP_MQTT_PASSWORD')
  .option('-c, --config <file>', 'config file with the store layout (default: the demo store)')
  .option('--store <id>', 'store to simulate (default: the first in the config)')
  .option('--seed <n>', 'random seed: the same seed gives the same messages', '1')
  .option('--speed <x>', 'simulated seconds per real second (0: as fast as possible)', '0')
  .option('--duration <d>', 'simulated time, ending now (e.g. 30m, 2h)', '1h')
  .option('--visitors-per-hour <n>', 'arrival rate of visitors', '120')
  .option('--app-share <f>', 'share of visitors carrying the retailer app (0-1)', '0.3')
  .option('--walking-speed <m/s>', 'walking speed of visitors between spots, m/s (default 0.85; docs/simulator.md)')
  .option('--group-share <f>', 'share of arrivals that are groups of 2-4 walking together (0-1, default 0.3; docs/simulator.md)')
  .option('--group-size <n>', 'mean size of a group (2-4, default 2.4; docs/simulator.md)')
  .option('--scan-interval <s>', 'how often each BLE and wifi sensor reports what it heard, s (default 5)')
  .option('--phone-share <f>', 'share of visitors whose phone probes for wifi (0-1, default 0.9; docs/simulator.md)')
  .option('--probe-interval <s>', "mean time between a phone's bursts of wifi probe requests, s (default 20; docs/simulator.md)")
  .option('--randomized-mac-share <f>', 'share of phones whose wifi MAC is randomised and rotates (0-1, default 0.95; docs/simulator.md)')
  .option(
    '--mac-rotation-min <minutes>',
    "shortest rotation interval of a randomised MAC, each phone's uniform between min and max (default 3; docs/simulator.md)",
  )
  .option('--mac-rotation-max <minutes>', 'longest rotation interval of a randomised MAC (default 10; docs/simulator.md)')
  .option('--app-advertising-duty <f>', "share of time an app user's phone advertises its beacon (0-1, default 0.6; 1: always; docs/simulator.md)")
  .option('--app-advertising-period <minutes>', 'mean length of one on/off advertising cycle (default 4; docs/simulator.md)')
  .option('--counter-group-miss <p>', 'chance the people counter misses each group member after the first (0-1, default 0.15; docs/simulator.md)')
  .option('--staff <n>', 'staff on the floor through the opening hours, counted by the people counter (0-50, default 3; docs/simulator.md)')
  .option('--stray-device-rate <per-hour>', 'devices left behind (a forgotten phone, a staff tablet charging) per hour (default 0.1; docs/simulator.md)')
  .option('--capture-rate <f>', 'share of people passing the shop front who come in (0.01-1, default 0.15; 1: no passers-by; docs/simulator.md)')
  .option('--neighbour-beacons <n>', "neighbouring shops' fixed beacons outside the walls (0-20, default 3; docs/simulator.md)")
  .option('--bad-rate <f>', 'share of deliberately malformed messages (0-0.5), recorded in the truth', '0')
  .addOption(
    new Option(
      '--arrival-profile <profile>',
      "visitor arrivals: flat, or daily (by the store's local hour, stores[].timezone; none outside stores[].openingHours, or 21:00-09:00 without them)",
    )
      .choices(['flat', 'daily'])
      .default('flat'),
  )
  .addOption(new Option('--qos <q>', 'MQTT QoS').choices(['0', '1']).default('1'))
  .option(
    '--truth <file>',
    'write the ground truth (visits, paths, zone per minute, stays, exposures, interactions, exact counts; docs/simulator.md#ground-truth) to this JSON file',
  )
  .option(
    '--scenario <file>',
    'play a YAML scenario of timed events: sensors or agents offline, crowd surges, skewed clocks, outages (docs/simulator.md#scenarios)',
  )
  .option('--only <list>', "only these sensors publish: comma-separated ble, wifi, touchpoint, counter, shelf, environment (default: all, or the scenario's)")
  .option('--no-progress', 'no progress bar');
// the radio model's parameters, each with its default and source in docs/simulator.md
for (const { flag, key, help } of RADIO_FLAGS)
  simulateCommand.option(`--${flag} <x>`, `radio: ${help} (docs/simulator.md)`, String(DEFAULT_RADIO_OPTIONS[key]));
// the delivery model's parameters (clocks, loss, duplicates, latency, outages), each with its default and source in docs/simulator.md
for (const { flag, key, help } of DELIVERY_FLAGS)
  simulateCommand.option(`--${flag} <x>`, `delivery: ${help} (docs/simulator.md)`, String(DEFAULT_DELIVERY_OPTIONS[key]));
// who grants and withdraws consents at the touchpoints, each share with its default and source in docs/simulator.md
for (const { flag, key, help } of CONSENT_FLAGS)
  simulateCommand.option(`--${flag} <x>`, `consent: ${help} (docs/simulator.md)`, String(DEFAULT_CONSENT_OPTIONS[key]));
simulateCommand.action(async (opts) => {
  await (await commands.simulate()).runSimulateCommand(opts);
});

program
  .command('evaluate')
  .description(
    "compare a simulator run's measurements in InfluxDB with its ground truth: the experience engine's visits, zones, dwell, engagement, capture rate and occupancy, beside the raw-signal baselines (docs/simulator.md#evaluate)",
  )
  .requiredOption('--truth <file>', 'the ground truth the run wrote (storeloop simulate --truth)')
  .option('--json', 'print one JSON object (null for a figure that is n/a)')
  .option(
    '--settle <duration>',
    "the engine's figures cover visitors who left at least this long before the window's end (its visits are final by then)",
    '25m',
  )
  .option(
    '-c, --config <file>',
    'config whose influx section names the InfluxDB and database to read (default: the built-in demo config); STORELOOP_INFLUX_* env vars override it',
  )
  .action(async (opts: { truth: string; json?: boolean; config?: string; settle: string }) => {
    const { settle, ...rest } = opts;
    await (await commands.evaluate()).runEvaluateCommand({ ...rest, settleMs: parseDuration(settle) });
  });

program
  .command('demo')
  .description('start a local InfluxDB, the gateway and the simulator; print the URLs; Ctrl-C stops all')
  .option('-c, --config <file>', 'config file (default: the built-in demo store)')
  .option('--backfill <d>', 'history published fast, oldest first, while the pages are up, before the live store takes over (0 for none)', '8d')
  .option('--visitors-per-hour <n>', 'arrival rate of visitors', '150')
  .option('--seed <n>', 'random seed', '1')
  .option('--stop-after <d>', 'stop by itself after this long (for scripted checks)')
  .option('--scenario <file>', "play a YAML scenario in the live store, its times from the live store's start (docs/simulator.md#scenarios)")
  .action(async (opts) => (await commands.demo()).runDemoCommand(opts));

const GATEWAY_URL_HELP = "the running gateway's HTTP address";
const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
/** The API token of the commands that call a running gateway (scope operator). */
const tokenOption = () =>
  new Option(
    '-t, --token <token>',
    'API token with the operator scope (storeloop tokens add); prefer the environment variable: a command line is visible to other users',
  ).env('STORELOOP_TOKEN');

program
  .command('sinks')
  .description(
    "the event log's sinks on a running gateway: `sinks` lists position, lag, health and ledger; `sinks detach NAME` detaches one (it stops, its checkpoint is removed, the log stops keeping records for it; a configured sink attaches again at the next start)",
  )
  .argument('[action]', 'list (default) or detach')
  .argument('[name]', 'the sink to detach')
  .option('-u, --url <url>', GATEWAY_URL_HELP, DEFAULT_GATEWAY_URL)
  .addOption(tokenOption())
  .action(async (action: string | undefined, name: string | undefined, opts: { url: string; token?: string }) => {
    const { runSinksDetach, runSinksList } = await commands.sinks();
    if (action === undefined || action === 'list') return runSinksList(opts);
    if (action === 'detach' && name !== undefined) return runSinksDetach(name, opts);
    throw new Error(`sinks: expected \`sinks\` or \`sinks detach NAME\`, got \`sinks ${[action, name].filter(Boolean).join(' ')}\``);
  });

program
  .command('replay')
  .description('deliver the log records appended since a time again to one sink (idempotent); limited by eventLog.replayRetentionSeconds')
  .requiredOption('--sink <name>', 'sink to replay to, e.g. influx')
  .requiredOption('--since <when>', 'receive time to replay from: a duration back from now (2h, 90m) or an ISO 8601 time')
  .option('-u, --url <url>', GATEWAY_URL_HELP, DEFAULT_GATEWAY_URL)
  .addOption(tokenOption())
  .action(async (opts: { sink: string; since: string; url: string; token?: string }) => (await commands.sinks()).runReplay(opts));

const CONFIG_FOR_STATE_HELP = 'the config whose state dir holds the tokens (default: the built-in demo config); STORELOOP_STATE_DIR overrides it';
const tokensCommand = program
  .command('tokens')
  .description(
    "bearer tokens of the HTTP API, in the config's state dir (<state.dir>/api-tokens.sqlite); works while the gateway runs, a revocation holds from its next request",
  );
tokensCommand
  .command('add')
  .description('make a token and print it once (the gateway keeps only a keyed hash)')
  .requiredOption('--name <name>', 'a name for the token, unique among tokens not revoked (e.g. grafana, prometheus, ops-laptop)')
  .requiredOption('--scope <scopes>', 'comma-separated: analyst, operator, privacy-officer, integration, admin (docs/security.md)')
  .option('--expires <duration>', 'the token expires after this long (e.g. 90d, 12h); default: never')
  .option('-c, --config <file>', CONFIG_FOR_STATE_HELP)
  .action(async (opts: { name: string; scope: string; expires?: string; config?: string }) => (await commands.tokens()).runTokensAdd(opts));
tokensCommand
  .command('list')
  .description('list the tokens: id, name, scopes, created, last used, state (never a secret)')
  .option('-c, --config <file>', CONFIG_FOR_STATE_HELP)
  .action(async (opts: { config?: string }) => (await commands.tokens()).runTokensList(opts));
tokensCommand
  .command('revoke')
  .description('revoke a token by id, or the unrevoked token of that name; its browser sessions end too')
  .argument('<token>', 'the id or name of the token')
  .option('-c, --config <file>', CONFIG_FOR_STATE_HELP)
  .action(async (idOrName: string, opts: { config?: string }) => (await commands.tokens()).runTokensRevoke(idOrName, opts));

const CONFIG_HELP = "the gateway's YAML config (its state.dir holds the identities; default: the built-in demo store)";
const credentials = program
  .command('credentials')
  .description(
    'MQTT identities of the gateway (in its state dir): add one with a generated secret, list, rotate, revoke; a running gateway applies changes within a second',
  );
credentials
  .command('add')
  .description('add an identity and print its MQTT user name and password (shown once)')
  .addOption(
    new Option(
      '--role <role>',
      'device: its own source; agent: its store sources and its config topic; publisher: data of its stores; operator: everything of its stores',
    )
      .choices(['device', 'agent', 'publisher', 'operator'])
      .makeOptionMandatory(),
  )
  .option('--store <ids...>', "store(s) granted: one for a device or agent; '*' for every store")
  .option('--source <id>', "a device's source id or an agent's id, as in the config")
  .option('--name <name>', 'MQTT user name (default for devices and agents: STORE/SOURCE)')
  .option('--forwards <ids>', 'an agent: the comma-separated sources it forwards for (default: every source of its store)')
  .option('--certificate', 'a client certificate with subject CN=<name> authenticates it too (mqtt.tls)')
  .option('--no-secret', 'issue no secret (a client certificate only; needs --certificate)')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--json', 'print JSON (the password included) for scripts')
  .action(async (opts) => (await commands.credentials()).runCredentialsAdd(opts));
credentials
  .command('list')
  .description('list the identities and their grants (never their secrets)')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--json', 'print JSON')
  .action(async (opts) => (await commands.credentials()).runCredentialsList(opts));
credentials
  .command('rotate')
  .argument('<name>', 'the identity')
  .description('issue a new secret; the old one stops working and its connections are closed')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--json', 'print JSON (the password included)')
  .action(async (name: string, opts) => (await commands.credentials()).runCredentialsRotate(name, opts));
credentials
  .command('revoke')
  .argument('<name>', 'the identity')
  .description('revoke an identity: its secret is deleted, its client ids released, its connections closed')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--json', 'print JSON')
  .action(async (name: string, opts) => (await commands.credentials()).runCredentialsRevoke(name, opts));

const configCommand = program.command('config').description('configuration tools');
configCommand
  .command('check')
  .argument('<file>', 'YAML config file')
  .description('validate a config file (with STORELOOP_* overrides) and print a summary; exit 1 with the bad key paths')
  .action(async (file: string) => {
    process.exitCode = (await commands.configCheck()).runConfigCheck(file);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`storeloop: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
