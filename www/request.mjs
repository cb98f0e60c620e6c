// Building the HTTP requests the console shows and copies. Pure functions, no DOM.

/** What the preview shows instead of the secret access key. */
export const MASK = "••••••••";

/** A deep copy of a body with credentials.password replaced by MASK (for display only). */
export function maskBody(body) {
  if (body === null || typeof body !== "object") return body;
  const copy = structuredClone(body);
  const creds = copy.credentials;
  if (creds && typeof creds === "object" && "password" in creds) creds.password = MASK;
  return copy;
}

/** The path under the API base, e.g. /v3/apps/:ref/dataconnectors/dc.kinesis.1. */
export function connectorPath(ref, id) {
  const base = `/v3/apps/${ref ? encodeURIComponent(ref) : ":ref"}/dataconnectors`;
  return id === undefined ? base : `${base}/${encodeURIComponent(id)}`;
}

/** Quote a string for a POSIX shell, single quotes. */
export function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Escape for inside shell double quotes, so $API_BASE / $APP_REF placeholders still expand. */
function shellDouble(text) {
  return text.replace(/[\\"$`]/g, (c) => `\\${c}`);
}

/**
 * One curl command. Missing base URL / app ref become $API_BASE / $APP_REF so the command still
 * runs after `export`. The token always comes from $API_TOKEN: the console never holds it.
 */
export function curlCommand({ method, base, ref, id, body }) {
  const root = base ? shellDouble(base.replace(/\/+$/, "")) : "$API_BASE";
  const app = ref ? shellDouble(encodeURIComponent(ref)) : "$APP_REF";
  const tail = id === undefined ? "" : `/${shellDouble(encodeURIComponent(id))}`;
  const lines = [
    `curl -X ${method} "${root}/v3/apps/${app}/dataconnectors${tail}"`,
    `  -H "Authorization: Bearer $API_TOKEN"`,
  ];
  if (body !== undefined) {
    lines.push(`  -H 'Content-Type: application/json'`);
    lines.push(`  --data-raw ${shellQuote(JSON.stringify(body))}`);
  }
  return lines.join(" \\\n");
}
