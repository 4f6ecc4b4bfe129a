// Runs graphql-http's server audits against a running gateway and prints one JSON line per
// audit: {id, name, status, reason}. Usage: node audit.mjs <url> <api key>
import { serverAudits } from "graphql-http";

const [url, key] = process.argv.slice(2);
// Every audit request carries the API key, as any client of this API does.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set("Authorization", `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
