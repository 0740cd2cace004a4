import { json } from '@sveltejs/kit';
import { listAudit } from '@vigil/db';
import type { AuditView, Page } from '$lib/api';
import { api, pageOf, pageQuery } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { routeSpec } from '$lib/server/openapi';
import { auditView } from '$lib/server/views';
import type { RequestHandler } from './$types';

/** The audit log, newest first (admin): `page`, `per_page`. */
export const GET: RequestHandler = api(async ({ url }) => {
  const { page, perPage } = pageOf(url);
  const { rows, total } = await listAudit(await getDb(), { limit: perPage, offset: (page - 1) * perPage });
  return json({ items: rows.map(auditView), total, page, per_page: perPage } satisfies Page<AuditView>);
});

export const _spec = routeSpec({ GET: { summary: 'The audit log, newest first', query: pageQuery } });
