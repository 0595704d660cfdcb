/**
 * Consent over HTTP. For `privacy-officer` tokens: record a grant or a withdrawal (collected by staff,
 * on paper, in the app's backend), read a customer's consents and history, their consent receipts
 * (Kantara Consent Receipt 1.1), and the audit log. For `integration` tokens: consents coming from
 * the CRM side, in batches, each with the CRM's own id so that a retried call records it once.
 * Touchpoints grant and withdraw over MQTT (`consent_granted` / `consent_withdrawn`, the consent sink).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { Config } from '../../config/index.js';
import { CONSENT_PURPOSES } from '../../protocol/index.js';
import { CONSENT_CHANNELS, CONSENT_STATES, type ConsentChange, type ConsentRegistry } from '../consent/consent-registry.js';
import { consentReceipt, receiptsUnavailable } from '../consent/consent-receipt.js';
import type { CustomerErasure } from '../consent/customer-erasure.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import { CustomerSchema, unknownCustomer } from './customer-schemas.js';

const ErrorSchema = z.object({ error: z.string(), code: z.string() });
const TimeSchema = z.union([z.iso.datetime({ offset: true }), z.number().int().min(0)]);
const MAX_CRM_UPDATES = 1000;

const ChangeSchema = z.object({
  id: z.string().describe("The change's id, the consent receipt's consentReceiptID"),
  customer: z.string().nullable().describe('The CRM id; null when the customer was erased since'),
  purpose: z.enum(CONSENT_PURPOSES),
  state: z.enum(CONSENT_STATES),
  at: z.string().describe('When the customer chose, ISO 8601'),
  recordedAt: z.string().describe('When the gateway recorded it, ISO 8601'),
  channel: z.enum(CONSENT_CHANNELS),
  origin: z.string().describe('Who passed it on: a touchpoint, an API token, the CRM integration'),
  notice: z.string().optional().describe('The version of the privacy notice shown'),
  proof: z.string().optional().describe('Where the evidence is'),
});

const GrantSchema = z.object({
  customer: CustomerSchema,
  purpose: z.enum(CONSENT_PURPOSES),
  state: z.enum(CONSENT_STATES).describe('granted or withdrawn'),
  at: TimeSchema.optional().describe('When the customer chose: ISO 8601 or epoch ms; default now'),
  channel: z.enum(CONSENT_CHANNELS).describe('How it was collected'),
  notice: z.string().min(1).max(64).optional(),
  proof: z.string().min(1).max(256).optional().describe('Where the evidence is: a signed form, a recording, a ticket'),
});

const CrmUpdateSchema = GrantSchema.omit({ channel: true }).extend({
  id: z.string().min(1).max(128).describe("The CRM's id of this change: the same id again is recorded once"),
  at: TimeSchema.describe('When the customer chose, as the CRM recorded it'),
});

function epochMs(at: string | number | undefined, now: number): number {
  return at === undefined ? now : typeof at === 'number' ? at : Date.parse(at);
}

export const consentRoutes: FastifyPluginAsyncZod<{
  consents: ConsentRegistry;
  customers: CustomerTokenVault;
  erasure: CustomerErasure;
  config: Config;
}> = async (app, { consents, customers, erasure, config }) => {
  const view = (change: ConsentChange): z.infer<typeof ChangeSchema> => {
    const { customerToken, key: _key, at, recordedAt, ...rest } = change;
    return { ...rest, customer: customers.resolve(customerToken) ?? null, at: new Date(at).toISOString(), recordedAt: new Date(recordedAt).toISOString() };
  };

  app.post(
    '/api/v1/consents',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: 'Record a grant or a withdrawal of one purpose for one customer',
        description: 'For consents collected outside the touchpoints (staff, paper, the app backend). A withdrawal takes effect for every event after `at`.',
        body: GrantSchema,
        response: { 201: z.object({ consent: ChangeSchema }) },
      },
    },
    async (req, reply) => {
      const { customer, at, ...rest } = req.body;
      const { change } = consents.record({
        ...rest,
        customerToken: customers.tokenFor(customer),
        at: epochMs(at, Date.now()),
        origin: `api token ${req.principal?.token.name ?? '?'}`,
      });
      return reply.code(201).send({ consent: view(change) });
    },
  );

  app.get(
    '/api/v1/customers/:customer/consents',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: "A customer's consent per purpose now, and every change",
        params: z.object({ customer: CustomerSchema }),
        response: {
          200: z.object({
            customer: z.string(),
            purposes: z.array(z.object({ purpose: z.enum(CONSENT_PURPOSES), state: z.enum([...CONSENT_STATES, 'never_asked']), since: z.string().nullable() })),
            history: z.array(ChangeSchema),
          }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const token = customers.existingToken(req.params.customer);
      if (token === undefined) return reply.code(404).send(unknownCustomer(req.params.customer));
      const now = Date.now();
      const purposes = CONSENT_PURPOSES.map((purpose) => {
        const change = consents.changeAt(token, purpose, now);
        return { purpose, state: change?.state ?? ('never_asked' as const), since: change === undefined ? null : new Date(change.at).toISOString() };
      });
      return { customer: req.params.customer, purposes, history: consents.history(token).map(view) };
    },
  );

  app.get(
    '/api/v1/customers/:customer/consent-receipts',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: "A customer's consent receipts (Kantara Consent Receipt 1.1), one per grant, with when it was withdrawn",
        params: z.object({ customer: CustomerSchema }),
        response: {
          200: z.object({ receipts: z.array(z.object({ receipt: z.record(z.string(), z.unknown()), withdrawnAt: z.string().nullable() })) }),
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const unavailable = receiptsUnavailable(config.privacy);
      if (unavailable !== undefined) return reply.code(409).send({ error: unavailable, code: 'SL_ERR_RECEIPTS_UNCONFIGURED' });
      const token = customers.existingToken(req.params.customer);
      if (token === undefined) return reply.code(404).send(unknownCustomer(req.params.customer));
      const history = consents.history(token);
      const receipts = history
        .filter((c) => c.state === 'granted')
        .map((grant) => {
          const withdrawal = history.find((c) => c.purpose === grant.purpose && c.state === 'withdrawn' && c.at >= grant.at);
          return {
            receipt: { ...consentReceipt(grant, req.params.customer, config.privacy) },
            withdrawnAt: withdrawal === undefined ? null : new Date(withdrawal.at).toISOString(),
          };
        });
      return { receipts };
    },
  );

  app.delete(
    '/api/v1/customers/:customer',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: 'Erase a customer: their identity links, consent history and pending CRM events; each CRM destination is told',
        description:
          'GDPR Art. 17 and 19. The audit log keeps only that an erasure happened and when, under a keyed hash of the customer id. The event log keeps the opaque token their touchpoint messages carried, which resolves to nobody afterwards.',
        params: z.object({ customer: CustomerSchema }),
        response: {
          200: z.object({
            erasureId: z.string(),
            customerHash: z.string().describe('HMAC-SHA256 of the customer id under the gateway key: how the audit log names the erasure'),
            removed: z.object({ consentChanges: z.number(), identityLinks: z.number(), pendingCrmEvents: z.number() }),
            notified: z.array(z.string()).describe('The CRM destinations an erasure notice was queued for'),
            notNotified: z
              .array(z.object({ destination: z.string(), reason: z.string() }))
              .describe(
                'The CRM destinations whose API cannot be told of an erasure as configured (HubSpot with identifyBy: utk): erase the customer there by hand',
              ),
          }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const result = erasure.erase(req.params.customer);
      if (result === undefined) return reply.code(404).send(unknownCustomer(req.params.customer));
      req.log.info(
        { erasureId: result.erasureId, removed: result.removed, notified: result.notified, notNotified: result.notNotified.map((n) => n.destination) },
        'customer erased',
      );
      return result;
    },
  );

  app.get(
    '/api/v1/consent-audit',
    {
      config: { scope: 'privacy-officer' },
      schema: {
        tags: ['privacy'],
        summary: 'The audit log: every consent change recorded since a time, and every erasure (under a keyed hash of the customer id only)',
        querystring: z.object({
          since: z.string().optional().describe('ISO 8601 or epoch ms; default the beginning'),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        }),
        response: {
          200: z.object({
            entries: z.array(
              z.union([
                ChangeSchema.extend({ type: z.literal('consent') }),
                z.object({ type: z.literal('erasure'), id: z.string(), customerHash: z.string(), recordedAt: z.string() }),
              ]),
            ),
          }),
          400: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const since = req.query.since === undefined ? 0 : /^\d+$/.test(req.query.since) ? Number(req.query.since) : Date.parse(req.query.since);
      if (Number.isNaN(since))
        return reply.code(400).send({ error: `since: '${req.query.since}' is neither ISO 8601 nor epoch ms`, code: 'SL_ERR_HTTP_BAD_REQUEST' });
      const entries = consents
        .audit(since, req.query.limit)
        .map((entry) =>
          entry.type === 'consent'
            ? { ...view(entry), type: 'consent' as const }
            : { type: 'erasure' as const, id: entry.id, customerHash: entry.customerHash, recordedAt: new Date(entry.recordedAt).toISOString() },
        );
      return { entries };
    },
  );

  app.post(
    '/api/v1/integrations/crm/consents',
    {
      config: { scope: 'integration' },
      schema: {
        tags: ['privacy'],
        summary: "Consents recorded on the CRM's side (a preference centre, an unsubscribe), in batches",
        description: `Up to ${MAX_CRM_UPDATES} changes; each needs the CRM's id of the change, so a call retried after a timeout records each change once.`,
        body: z.object({ updates: z.array(CrmUpdateSchema).min(1).max(MAX_CRM_UPDATES) }),
        response: { 200: z.object({ recorded: z.number(), alreadyRecorded: z.number() }) },
      },
    },
    async (req) => {
      const origin = `crm token ${req.principal?.token.name ?? '?'}`;
      let recorded = 0;
      for (const { id, customer, at, ...rest } of req.body.updates) {
        const result = consents.record({
          ...rest,
          proof: rest.proof ?? `CRM change ${id}`,
          key: `crm:${id}`,
          customerToken: customers.tokenFor(customer),
          at: epochMs(at, Date.now()),
          channel: 'crm_import',
          origin,
        });
        if (result.created) recorded += 1;
      }
      return { recorded, alreadyRecorded: req.body.updates.length - recorded };
    },
  );
};
