/** The API tokens of the gateways this run started, so every request of the bench to them authenticates. */

const API_TOKENS = new Map<string, string>();

/** Requests to the gateway at `httpUrl` send this bearer token from now on. */
export function useApiToken(httpUrl: string, token: string): void {
  API_TOKENS.set(new URL(httpUrl).origin, token);
}

/** The Authorization header for `url`: its gateway's token, or none for a server the run did not start. */
export function authorizationFor(url: string): Record<string, string> {
  const token = API_TOKENS.get(new URL(url).origin);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
