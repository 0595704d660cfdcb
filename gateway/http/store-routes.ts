/** GET /api/v1/stores: the configured stores with their zones, sensors, touchpoints, devices and agents. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { StoreSchema } from '../../config/index.js';
import type { HttpDeps } from './deps.js';

export const storeRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  app.get(
    '/api/v1/stores',
    {
      config: { scope: 'analyst' },
      schema: {
        tags: ['stores'],
        summary: 'Stores and the ids of their zones, sensors, touchpoints, devices and agents',
        response: { 200: z.object({ stores: z.array(StoreSchema) }) },
      },
    },
    async () => ({ stores: [...deps.directory.listStores()] }),
  );
};
