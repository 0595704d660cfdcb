/**
 * One attacker process (spawned by the runner with an IPC channel) of the storeloop-under-attack
 * scenario: one attack, on raw sockets from its own loopback address(es), at a bounded rate and with
 * a bounded number of connections, from the window's start to its end. It reports what the gateway
 * answered, by outcome. Kinds (bench/README.md):
 * - `reconnect-storm`: CONNECTs with wrong secrets for an existing identity's name and with unknown names;
 * - `publish-flood`: a valid device identity publishing forged sightings on other sources' topics, far
 *   over its per-client rate; reconnects whenever it is disconnected;
 * - `oversized-and-slowloris`: PUBLISH headers declaring 256 MiB, and packets left half-sent;
 * - `random-bytes`: seeded random bytes as the first bytes of a connection;
 * - `slow-subscriber`: an operator subscribed to `storeloop/#` at QoS 1 that never reads its socket;
 * - `connection-flood`: connections that never send CONNECT, up to past the per-address cap.
 *
 * Usage: node dist/bench/attacker.js '<AttackerSpec JSON>'
 */
import { AttackerSpecSchema, type Attack } from './attack.js';
import { createAttack } from './attacks.js';
import { failChild, listenToParent, sendToParent, type RunWindow } from './ipc.js';

const PROGRESS_EVERY_MS = 500;

function run(attack: Attack, window: RunWindow): void {
  const progress = setInterval(() => sendToParent({ type: 'progress', count: attack.total }), PROGRESS_EVERY_MS);
  const finish = () => {
    clearInterval(progress);
    sendToParent({ type: 'attacker-result', result: attack.stop() }, () => process.exit(0));
  };
  setTimeout(() => attack.start(), Math.max(0, window.startAtMs - Date.now()));
  setTimeout(finish, Math.max(0, window.endAtMs - Date.now()));
}

async function main(): Promise<void> {
  const spec = AttackerSpecSchema.parse(JSON.parse(process.argv[2] ?? '') as unknown);
  const attack = createAttack(spec);
  listenToParent((message) => {
    if (message.type === 'start') run(attack, message.window);
    else sendToParent({ type: 'attacker-result', result: attack.stop() }, () => process.exit(0));
  });
  sendToParent({ type: 'ready' });
  return Promise.resolve();
}

main().catch(failChild);
