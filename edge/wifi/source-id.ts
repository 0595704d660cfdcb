/** The id a wifi source publishes under: a contract entity id that is not a MAC address. */
import { z } from 'zod';

import { ID_PATTERN, containsMacAddress } from '../../protocol/index.js';

export const SourceIdSchema = z
  .string()
  .regex(ID_PATTERN, 'expected a source id (1-64 of A-Z a-z 0-9 _ . -)')
  .refine((s) => !containsMacAddress(s), 'a source id must not be a MAC address');

/** True when the id can go into a topic and is not an address in disguise. */
export function isValidSourceId(id: string): boolean {
  return ID_PATTERN.test(id) && !containsMacAddress(id);
}
