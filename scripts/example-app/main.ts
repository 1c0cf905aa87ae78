/**
 * Run the example application:
 *   ROSTER_URL=http://localhost:3000 ROSTER_ADMIN_TOKEN=… ROSTER_TENANT=acme \
 *   ROSTER_CLIENT_ID=rst_client_… ROSTER_CLIENT_SECRET=rst_cs_… PORT=4000 \
 *   node --import tsx scripts/example-app/main.ts
 * Register http://localhost:4000/callback as the OAuth client's redirect URI.
 */
import { createExampleApp } from "./app.js";

const env = (name: string, fallback?: string) => {
  const v = process.env[name] ?? fallback;
  if (!v) throw new Error(`set ${name}`);
  return v;
};
const port = Number(env("PORT", "4000"));
const example = createExampleApp({
  rosterUrl: env("ROSTER_URL", "http://localhost:3000"),
  rosterPublicUrl: process.env.ROSTER_PUBLIC_URL,
  adminToken: env("ROSTER_ADMIN_TOKEN"),
  tenant: env("ROSTER_TENANT"),
  clientId: env("ROSTER_CLIENT_ID"),
  clientSecret: env("ROSTER_CLIENT_SECRET"),
  redirectUri: env("REDIRECT_URI", `http://localhost:${port}/callback`),
});
example.app.listen(port, () => console.log(`example app on http://localhost:${port}`));
example.syncRoles().catch((err) => {
  console.error(`roster feed stopped: ${err}`);
  process.exit(1);
});
