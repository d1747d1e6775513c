/**
 * `npm run token -- --role manager --sub MGR-1 (--team T1 [--team T2] | --all-teams) [--role operations] [--ttl 8h]`
 * prints a local bearer token signed with API_JWT_SECRET, or with the embedded default's
 * secret (generated once under DATA_DIR/api-jwt-secret). With API_JWKS_URL set, tokens
 * come from the identity provider instead, and this refuses.
 */
import { parseArgs } from 'node:util';
import { roles, type Role } from '../api/auth';
import { loadApiConfig } from '../api/config';
import { signLocalToken } from '../api/tokens';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', multiple: true },
      sub: { type: 'string' },
      team: { type: 'string', multiple: true },
      'all-teams': { type: 'boolean', default: false },
      ttl: { type: 'string', default: '8h' },
    },
  });
  const asked = (values.role ?? []).flatMap((role) => role.split(','));
  const unknown = asked.filter((role) => !(roles as readonly string[]).includes(role));
  const teams = (values.team ?? []).flatMap((team) => team.split(','));
  if (asked.length === 0 || unknown.length > 0 || !values.sub || (teams.length === 0) === !values['all-teams']) {
    console.error(`usage: npm run token -- --role <${roles.join('|')}> [--role ...] --sub <opaque id, e.g. MGR-1> (--team T1 [--team T2] | --all-teams) [--ttl 8h]`);
    console.error('a token names the teams whose cases it reaches, or --all-teams explicitly');
    if (unknown.length > 0) console.error(`unknown role(s): ${unknown.join(', ')}`);
    process.exit(2);
  }
  const config = loadApiConfig();
  if (config.auth.mode !== 'secret') {
    console.error('API_JWKS_URL is set: tokens come from your identity provider, not from this script');
    process.exit(2);
  }
  const token = await signLocalToken(
    config.auth.secret,
    { sub: values.sub, roles: asked as Role[], ...(values['all-teams'] ? { allTeams: true } : { teams }) },
    { expiresIn: values.ttl, ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}), ...(config.auth.audience ? { audience: config.auth.audience } : {}) },
  );
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
