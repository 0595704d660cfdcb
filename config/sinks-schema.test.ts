import { describe, expect, it } from 'vitest';

import { parseConfig, type ConfigError } from './load.js';

const hubspot = { name: 'hub-spot', type: 'hubspot', hubId: 4711, identifyBy: 'email' };
const salesforce = { name: 'sf', type: 'salesforce', instanceUrl: 'https://acme.my.salesforce.com', apiVersion: '62.0', clientId: 'id' };
const withCrm = (...destinations: unknown[]) => ({ sinks: { crm: { destinations } } });

describe('sinks.crm.destinations', () => {
  it('takes HubSpot and Salesforce destinations with their defaults, their secrets from STORELOOP_CRM_<NAME>_*', () => {
    const config = parseConfig(withCrm(hubspot, salesforce), { STORELOOP_CRM_HUB_SPOT_TOKEN: 'pat-eu1-x', STORELOOP_CRM_SF_CLIENT_SECRET: 's3cret' });
    expect(config.sinks.crm.destinations).toEqual([
      expect.objectContaining({
        type: 'hubspot',
        token: 'pat-eu1-x',
        baseUrl: 'https://api.hubapi.com',
        events: { visit: 'storeloop_visit', interaction: 'storeloop_interaction', feedback: 'storeloop_feedback' },
        properties: {},
        timeZone: 'UTC',
        ratePerSecond: 10,
      }),
      expect.objectContaining({
        type: 'salesforce',
        clientSecret: 's3cret',
        eventObject: 'Storeloop_Event__e',
        erasureObject: 'Storeloop_Erasure__e',
        batchSize: 200,
      }),
    ]);
  });

  it('names the missing secret, a bad time zone, a batch over 200 and a property name HubSpot would refuse', () => {
    const problems = (raw: unknown) => {
      try {
        parseConfig(raw, {});
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems(withCrm(hubspot))).toEqual([expect.stringMatching(/^sinks\.crm\.destinations\.0\.token: .*STORELOOP_CRM_<NAME>_TOKEN/)]);
    expect(problems(withCrm({ ...hubspot, token: 't', timeZone: 'Mars/Olympus' }))).toEqual([
      expect.stringContaining('sinks.crm.destinations.0.timeZone: an IANA time zone'),
    ]);
    expect(problems(withCrm({ ...hubspot, token: 't', properties: { label: 'Label-Text' } }))).toEqual([
      expect.stringContaining('sinks.crm.destinations.0.properties.label: a HubSpot internal name'),
    ]);
    expect(problems(withCrm({ ...salesforce, clientSecret: 's', batchSize: 201 }))).toEqual([expect.stringContaining('sinks.crm.destinations.0.batchSize')]);
  });
});
