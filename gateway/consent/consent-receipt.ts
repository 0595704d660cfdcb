/**
 * A grant as a Kantara Initiative Consent Receipt (specification v1.1.0): what the customer can keep
 * as proof of what they agreed to, with whom and how to withdraw. The purposes' wording and
 * categories are storeloop's (one per purpose of the contract); the controller and the notice come
 * from the config (`privacy`).
 */
import type { Config } from '../../config/index.js';
import type { ConsentPurpose } from '../../protocol/index.js';
import type { ConsentChange } from './consent-registry.js';

export const RECEIPT_VERSION = 'KI-CR-v1.1.0';

/** What each purpose means to the customer, in the receipt's terms (purposeCategory and piiCategory from the specification's lists). */
export const PURPOSE_TERMS: Record<ConsentPurpose, { purpose: string; purposeCategory: string[]; piiCategory: string[]; thirdPartyDisclosure: boolean }> = {
  analytics: {
    purpose: 'Measure your visits to the store (when, how long, which areas and touchpoints) linked to your customer account, to improve the store',
    purposeCategory: ['Improve Performance'],
    piiCategory: ['Behavioral', 'Network/Service'],
    thirdPartyDisclosure: false,
  },
  personalisation: {
    purpose: 'Use your visits and the touchpoints you chose to personalise what the store and the app show you',
    purposeCategory: ['Personalized Experience'],
    piiCategory: ['Behavioral', 'Profiling'],
    thirdPartyDisclosure: false,
  },
  crm: {
    purpose: "Record your store visits, touchpoint use and feedback in your customer record in the retailer's CRM",
    purposeCategory: ['Marketing'],
    piiCategory: ['Behavioral', 'Contact'],
    thirdPartyDisclosure: true,
  },
};

const COLLECTION_METHOD: Record<ConsentChange['channel'], string> = {
  app: "in the retailer's app",
  kiosk: 'at a store device (kiosk, smart mirror or feedback terminal)',
  staff: 'by store staff on the customer’s behalf',
  crm_import: "imported from the retailer's CRM",
};

export interface ConsentReceipt {
  version: typeof RECEIPT_VERSION;
  jurisdiction: string;
  consentTimestamp: number;
  collectionMethod: string;
  consentReceiptID: string;
  language: string;
  piiPrincipalId: string;
  piiControllers: Array<{ piiController: string; contact: string; address: string; email: string; phone: string; piiControllerUrl?: string }>;
  policyUrl: string;
  services: Array<{
    service: string;
    purposes: Array<{
      purpose: string;
      purposeCategory: string[];
      consentType: 'EXPLICIT';
      piiCategory: string[];
      primaryPurpose: boolean;
      termination: string;
      thirdPartyDisclosure: boolean;
      thirdPartyName?: string;
    }>;
  }>;
  sensitive: boolean;
  spiCat: string[];
}

/** Why receipts cannot be made with this config, or undefined when they can. */
export function receiptsUnavailable(privacy: Config['privacy']): string | undefined {
  const missing = [privacy.controller === undefined ? 'privacy.controller' : null, privacy.policyUrl === undefined ? 'privacy.policyUrl' : null].filter(
    (key) => key !== null,
  );
  return missing.length === 0 ? undefined : `a consent receipt names the data controller and the privacy notice: set ${missing.join(' and ')} in the config`;
}

/** The receipt of a grant, for the customer `customer` (their CRM id: the receipt is theirs). */
export function consentReceipt(change: ConsentChange, customer: string, privacy: Config['privacy']): ConsentReceipt {
  const { controller, policyUrl } = privacy;
  if (controller === undefined || policyUrl === undefined) throw new Error(receiptsUnavailable(privacy));
  if (change.state !== 'granted') throw new Error(`change ${change.id} is a withdrawal: a receipt records a consent given`);
  const terms = PURPOSE_TERMS[change.purpose];
  return {
    version: RECEIPT_VERSION,
    jurisdiction: privacy.jurisdiction,
    consentTimestamp: Math.floor(change.at / 1000),
    collectionMethod: COLLECTION_METHOD[change.channel],
    consentReceiptID: change.id,
    language: privacy.language,
    piiPrincipalId: customer,
    piiControllers: [
      {
        piiController: controller.name,
        contact: controller.contact,
        address: controller.address,
        email: controller.email,
        phone: controller.phone,
        ...(controller.url === undefined ? {} : { piiControllerUrl: controller.url }),
      },
    ],
    policyUrl,
    services: [
      {
        service: 'In-store experience (storeloop)',
        purposes: [
          {
            purpose: terms.purpose,
            purposeCategory: terms.purposeCategory,
            consentType: 'EXPLICIT',
            piiCategory: terms.piiCategory,
            primaryPurpose: true,
            termination: `Until you withdraw it, as easily as you gave it: in the app, at a store kiosk, or by writing to ${controller.email}`,
            thirdPartyDisclosure: terms.thirdPartyDisclosure,
            ...(terms.thirdPartyDisclosure ? { thirdPartyName: `${controller.name}'s CRM` } : {}),
          },
        ],
      },
    ],
    sensitive: false,
    spiCat: [],
  };
}
