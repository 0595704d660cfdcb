/** The adapter of a configured CRM destination, by its `type`. */
import type { CrmDestinationConfig } from '../../../config/index.js';
import type { CrmDestinationAdapter } from './destination.js';
import { HubSpotDestination } from './hubspot.js';
import { SalesforceDestination } from './salesforce.js';
import { WebhookDestination } from './webhook.js';

export function createDestination(config: CrmDestinationConfig): CrmDestinationAdapter {
  switch (config.type) {
    case 'webhook':
      return new WebhookDestination(config);
    case 'hubspot':
      return new HubSpotDestination(config);
    case 'salesforce':
      return new SalesforceDestination(config);
  }
}
