/** What the privacy routes (consent-routes.ts, identity-link-routes.ts) say of a customer: the path parameter and the 404 answer. */
import { z } from 'zod';

export const CustomerSchema = z.string().min(1).max(128).describe("The customer's CRM id");

/** The answer for a customer the gateway has no token for. */
export function unknownCustomer(customer: string): { error: string; code: string } {
  return { error: `no consent or identity is recorded for customer '${customer}'`, code: 'SL_ERR_CUSTOMER_UNKNOWN' };
}
