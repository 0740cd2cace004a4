import { error } from '@sveltejs/kit';
import { getTarget } from '@vigil/db';
import { parseId } from '$lib/server/api';
import { consoleConfig } from '$lib/server/config';
import { getDb } from '$lib/server/db';
import type { PageServerLoad } from './$types';

/** A terminal on the host, or with `?container=` a shell in that container (developer and above, by the policy). */
export const load: PageServerLoad = async ({ params, url }) => {
  const id = parseId(params.id);
  const target = id === null ? undefined : await getTarget(await getDb(), id);
  if (!target) error(404, `No host with id ${params.id}`);
  return {
    target: { id: target.id, name: target.name },
    container: url.searchParams.get('container') || null,
    terminalsOn: consoleConfig().terminalKeyPem !== null,
  };
};
