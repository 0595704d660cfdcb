/**
 * The agent's local HTTP ingress (fastify) for kiosks, smart mirrors, smart shelves and feedback
 * terminals. start() listens, stop() closes. Bodies are never logged: they may carry a customer id.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import type { Logger } from '../../lib/logger.js';
import type { IngressConfig } from '../agent/config-schema.js';
import type { EnqueueResult, QueueMessage } from '../queue/edge-queue.js';
import { ingressRoutes } from './ingress-routes.js';

export interface IngressServerOptions {
  config: IngressConfig;
  enqueue: (message: QueueMessage) => Promise<EnqueueResult>;
  status: () => unknown;
  sourceIds: () => readonly string[] | null;
  log: Logger;
  now?: () => number;
}

/** Fastify errors a client causes, mapped to a short answer (anything else is a plain 500). */
const CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: '(body): send Content-Type: application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: '(body): too large',
  FST_ERR_CTP_EMPTY_JSON_BODY: '(body): empty',
  FST_ERR_CTP_INVALID_JSON_BODY: '(body): not valid JSON',
};

export class IngressServer {
  private app: FastifyInstance | null = null;
  private address = '';
  private readonly answers = new Map<string, number>();

  /** Stores the options; nothing listens before start(). */
  constructor(private readonly options: IngressServerOptions) {}

  async start(): Promise<void> {
    const log = this.options.log.child({ module: 'ingress' });
    const { config } = this.options;
    const app = Fastify({
      loggerInstance: log as unknown as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: config.bodyLimitBytes,
    });
    app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status < 500) {
        const code = err.code ?? 'SL_ERR_INGRESS_BAD_REQUEST';
        this.count(code);
        return reply.code(status).send({ error: CLIENT_ERRORS[code] ?? err.message, code });
      }
      req.log.error({ err, url: req.url }, 'ingress request failed');
      return reply.code(500).send({ error: 'internal error', code: 'SL_ERR_INGRESS_INTERNAL' });
    });
    await app.register(ingressRoutes, {
      deps: {
        enqueue: this.options.enqueue,
        status: this.options.status,
        sourceIds: this.options.sourceIds,
        token: config.token,
        now: this.options.now ?? Date.now,
        count: (code) => this.count(code),
      },
    });
    this.address = await app.listen({ host: config.host, port: config.port });
    this.app = app;
    log.info({ url: this.address }, 'ingress listening');
  }

  /** The URL it listens on (the real port when the config said 0). */
  get url(): string {
    return this.address;
  }

  /** Answers since start by code: `accepted`, or an SL_ERR_INGRESS_* / FST_ERR_* code. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.answers);
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = null;
    await app?.close();
  }

  private count(code: string): void {
    this.answers.set(code, (this.answers.get(code) ?? 0) + 1);
  }
}
