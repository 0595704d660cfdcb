/**
 * Identity links over HTTP, for `privacy-officer` tokens: a customer links a pseudonym the store's
 * sensors know (the retailer's app beacon id, an edge agent's `dev:<pseudonym>` of their phone after a
 * wifi login) to themselves outside a touchpoint: in the app's backend after a QR scan, at the tills
 * with a loyalty card, through staff. Only the customer's own action may make a link (docs/privacy.md):
 * the call names how they made it (`channel`) and where the evidence is (`proof`). A link holds from
 * `at` for `privacy.identityLinkDays` (or fewer days when asked), and the customer can end it early.
 * Touchpoints link over MQTT (a touchpoint message naming both the customer and the beacon: the consent sink).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { Config } from '../../config/index.js';
import { BeaconIdSchema } from '../../protocol/index.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import { CustomerSchema, unknownCustomer } from './customer-schemas.js';

const DAY_MS = 86_400_000;
/** How far back a link may be dated: a customer's action that reaches the gateway late, not a back-dated claim. */
const MAX_BACKDATE_MS = DAY_MS;
const LINK_CHANNELS = ['app', 'kiosk', 'wifi_login', 'loyalty_card', 'qr_scan', 'staff'] as const;

const ErrorSchema = z.object({ error: z.string(), code: z.string() });

const LinkSchema = z.object({
  pseudonym: z.string().describe('The beacon id the sensors report (`ibeacon:…`, `dev:<pseudonym>`)'),
  validFrom: z.string().describe('ISO 8601'),
  validUntil: z.string().describe('ISO 8601: events after it no longer resolve to the customer'),
  origin: z.string().describe('How the link was made: a touchpoint, or an API token with the channel and proof'),
});

const iso = (ms: number) => new Date(ms).toISOString();

export const identityLinkRoutes: FastifyPluginAsyncZod<{ customers: CustomerTokenVault; config: Pick<Config, 'privacy'> }> = async (
  app,
  { customers, config },
) => {
  const maxDays = config.privacy.identityLinkDays;
  const view = (l: { pseudonym: string; validFrom: number; validUntil: number; origin: string }) => ({
    pseudonym: l.pseudonym,
    validFrom: iso(l.validFrom),
    validUntil: iso(l.validUntil),
    origin: l.origin,
  });

  app.post(
    '/api/v1/customers/:customer/identity-links',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: 'Link a pseudonym to a customer, from their own action (an app login, a loyalty card, a wifi login)',
        description: `The link holds from \`at\` for \`validDays\` (at most privacy.identityLinkDays, ${maxDays} here). The CRM sinks resolve the pseudonym's events through it from the moment it is recorded; \`at\` may lie at most a day back. The customer id never reaches InfluxDB.`,
        params: z.object({ customer: CustomerSchema }),
        body: z.object({
          pseudonym: BeaconIdSchema.describe('The beacon id the sensors report (`ibeacon:…`, `dev:<pseudonym>`)'),
          channel: z.enum(LINK_CHANNELS).describe('How the customer made the link'),
          proof: z.string().min(1).max(256).describe('Where the evidence is: the app session, the loyalty card transaction, the form'),
          at: z
            .union([z.iso.datetime({ offset: true }), z.number().int().min(0)])
            .optional()
            .describe('When the customer acted: ISO 8601 or epoch ms; default now'),
          validDays: z.number().int().min(1).max(maxDays).optional().describe(`Default ${maxDays} (privacy.identityLinkDays)`),
        }),
        response: { 201: z.object({ customer: z.string(), link: LinkSchema }), 400: ErrorSchema },
      },
    },
    async (req, reply) => {
      const now = Date.now();
      const { pseudonym, channel, proof, at: given, validDays } = req.body;
      const at = given === undefined ? now : typeof given === 'number' ? given : Date.parse(given);
      if (at > now)
        return reply.code(400).send({ error: `at: ${iso(at)} is in the future: a link starts when the customer acted`, code: 'SL_ERR_HTTP_BAD_REQUEST' });
      if (at < now - MAX_BACKDATE_MS)
        return reply
          .code(400)
          .send({ error: `at: ${iso(at)} is more than a day back: a link cannot be back-dated to cover past events`, code: 'SL_ERR_HTTP_BAD_REQUEST' });
      const token = customers.tokenFor(req.params.customer);
      const validMs = (validDays ?? maxDays) * DAY_MS;
      customers.link(pseudonym, token, at, validMs, `api token ${req.principal?.token.name ?? '?'}: ${channel}, ${proof}`);
      const link = customers.linksOf(token).find((l) => l.pseudonym === pseudonym && l.validFrom === at) as Parameters<typeof view>[0];
      req.log.info({ channel, validFrom: iso(at), validUntil: iso(link.validUntil) }, 'identity link recorded');
      return reply.code(201).send({ customer: req.params.customer, link: view(link) });
    },
  );

  app.get(
    '/api/v1/customers/:customer/identity-links',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: "A customer's identity links: the pseudonyms their events resolve through, and for when",
        params: z.object({ customer: CustomerSchema }),
        response: { 200: z.object({ customer: z.string(), links: z.array(LinkSchema) }), 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const token = customers.existingToken(req.params.customer);
      if (token === undefined) return reply.code(404).send(unknownCustomer(req.params.customer));
      return { customer: req.params.customer, links: customers.linksOf(token).map(view) };
    },
  );

  app.delete(
    '/api/v1/customers/:customer/identity-links/:pseudonym',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: 'End the links of a pseudonym to a customer now (the customer unlinked it)',
        description: 'Events after now no longer resolve to the customer through it; events before stay theirs (erase the customer to remove everything).',
        params: z.object({ customer: CustomerSchema, pseudonym: z.string().min(1).max(200) }),
        response: { 200: z.object({ ended: z.number() }), 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const token = customers.existingToken(req.params.customer);
      if (token === undefined) return reply.code(404).send(unknownCustomer(req.params.customer));
      const ended = customers.endLinks(req.params.pseudonym, token, Date.now());
      if (ended === 0)
        return reply
          .code(404)
          .send({ error: `customer '${req.params.customer}' has no current link of '${req.params.pseudonym}'`, code: 'SL_ERR_IDENTITY_LINK_UNKNOWN' });
      req.log.info({ ended }, 'identity link ended');
      return { ended };
    },
  );
};
