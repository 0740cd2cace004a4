import { error } from '@sveltejs/kit';
import { getTarget } from '@vigil/db';
import { parseId } from '$lib/server/api';
import { consoleConfig } from '$lib/server/config';
import { getDb } from '$lib/server/db';
import type { PageServerLoad } from './$types';

/** A container's logs, followed (`?container=`; developer and above, by the policy). */
export const load: PageServerLoad = async ({ params, url }) => {
  const id = parseId(params.id);
  const target = id === null ? undefined : await getTarget(await getDb(), id);
  if (!target) error(404, `No host with id ${params.id}`);
  const container = url.searchParams.get('container');
  if (!container) error(400, 'Name the container: /hosts/<id>/logs?container=<name>');
  return { target: { id: target.id, name: target.name }, container, terminalsOn: consoleConfig().terminalKeyPem !== null };
};
