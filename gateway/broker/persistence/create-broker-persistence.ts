/**
 * Picks the broker's persistence from config: `memory` (nothing survives the process, aedes' default)
 * or `sqlite` (`<state.dir>/broker.sqlite`, survives restarts and crashes). A multi-node store (redis)
 * is a third kind for later; the broker only sees the BrokerPersistence contract.
 */
import { join } from 'node:path';

import type { Config } from '../../../config/index.js';
import type { Logger } from '../../../lib/logger.js';
import type { BrokerPersistence } from './broker-persistence.js';
import { createMemoryPersistence } from './memory-persistence.js';
import { SqlitePersistence } from './sqlite-persistence.js';

/** `mqtt.persistence` in the config. */
export type BrokerPersistenceKind = Config['mqtt']['persistence'];

/** The broker's state file inside the gateway's state dir. */
export const BROKER_STATE_FILE = 'broker.sqlite';

export interface BrokerPersistenceConfig {
  kind: BrokerPersistenceKind;
  /** The gateway's state dir (`state.dir`); the sqlite kind keeps its file here. */
  dir: string;
  /** Packets one client's queue may hold (sqlite kind); past it, new ones for that client are dropped. */
  maxQueuedPerClient?: number;
  onQueueFull?: (clientId: string) => void;
}

/** Opens the configured persistence; pass it to aedes, which calls setup(), and destroy() it after aedes closed. */
export async function createBrokerPersistence(config: BrokerPersistenceConfig, log: Logger): Promise<BrokerPersistence> {
  switch (config.kind) {
    case 'memory':
      log.info({ kind: 'memory' }, 'broker state in memory: sessions and retained messages end with the process');
      return createMemoryPersistence();
    case 'sqlite':
      return new SqlitePersistence(join(config.dir, BROKER_STATE_FILE), log, {
        ...(config.maxQueuedPerClient === undefined ? {} : { maxQueuedPerClient: config.maxQueuedPerClient }),
        ...(config.onQueueFull === undefined ? {} : { onQueueFull: config.onQueueFull }),
      });
  }
}
