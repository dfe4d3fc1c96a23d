// How the CLI talks to the running daemon's HTTP API: one request helper and one "cannot reach" message for
// every command (query, inventory, vip, pcap), so they fail the same way with the same advice.
import { CliError } from './cliError.ts';

/** The error every command gives when the daemon does not answer; `hint` says what else the command can do. */
export function daemonUnreachable(api: string, why: string, hint: string): CliError {
  return new CliError(`cannot reach the dvflow daemon at ${api} (${why}): is 'dvflow start' running? ${hint}`);
}

/**
 * A JSON request to `/api/v1<path>`. A refused connection becomes daemonUnreachable; an error status becomes a
 * CliError with the API's message (or `${failure} with HTTP N`).
 */
export async function callDaemon<T = Record<string, unknown>>(api: string, method: string, path: string,
  o: { body?: unknown; token?: string; hint: string; failure?: string }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(`/api/v1${path}`, api), {
      method,
      headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
    });
  } catch (e) {
    throw daemonUnreachable(api, (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message, o.hint);
  }
  const json = (await res.json().catch(() => ({}))) as T & { message?: string };
  if (!res.ok) throw new CliError(json.message ?? `${o.failure ?? 'request failed'} with HTTP ${res.status}`);
  return json;
}
