import { listAudit } from '@vigil/db';
import { getDb } from '$lib/server/db';
import { auditView } from '$lib/server/views';
import type { PageServerLoad } from './$types';

const PER_PAGE = 50;

/** The audit log, newest first, `?page=` of 50. */
export const load: PageServerLoad = async ({ url }) => {
  const page = Math.max(1, Math.min(100_000, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1));
  const { rows, total } = await listAudit(await getDb(), { limit: PER_PAGE, offset: (page - 1) * PER_PAGE });
  return { entries: rows.map(auditView), total, page, pages: Math.max(1, Math.ceil(total / PER_PAGE)) };
};
