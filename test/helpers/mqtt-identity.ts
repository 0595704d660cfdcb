/**
 * MQTT identities for tests: provisioned in a gateway's state dir as `storeloop credentials add` does,
 * and URLs that carry a login (MQTT.js takes the user name and password from `mqtt://user:pass@host`).
 */
import { join } from 'node:path';

import { MqttIdentityStore, type NewIdentity } from '../../gateway/auth/mqtt-identities.js';
import { secretKeyPath } from '../../gateway/auth/secrets.js';
import type { MqttLogin } from '../../devtools/mqtt-login.js';

export { urlWithLogin, type MqttLogin } from '../../devtools/mqtt-login.js';

/** Adds an identity to the identity store of a state dir (the gateway may be running or not). */
export function provisionIdentity(state: { dir: string; secretKeyFile?: string }, spec: NewIdentity): MqttLogin {
  const store = new MqttIdentityStore(join(state.dir, 'mqtt-identities.sqlite'), secretKeyPath(state));
  store.open();
  try {
    const { identity, secret } = store.add(spec);
    if (secret === null) throw new Error(`identity ${identity.name} was provisioned without a secret`);
    return { username: identity.name, password: secret };
  } finally {
    store.close();
  }
}
