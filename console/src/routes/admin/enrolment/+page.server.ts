import { actorOf } from '$lib/server/actor';
import { consoleConfig } from '$lib/server/config';
import { listEnrolmentTokenViews, makeEnrolmentToken, revokeEnrolmentTokenById } from '$lib/server/enrolment';
import { formAction, formFields, optionalNumber, parseLabels } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({
  tokens: await listEnrolmentTokenViews(),
  consoleUrl: consoleConfig().origin.origin,
});

export const actions: Actions = {
  add: (event) =>
    formAction('add', async () => {
      const f = await formFields(event);
      const hours = optionalNumber(f.expires_hours);
      const made = await makeEnrolmentToken(actorOf(event), {
        name: f.name ?? '',
        labels: parseLabels(f.labels ?? ''),
        require_approval: f.require_approval === 'on',
        max_uses: optionalNumber(f.max_uses) ?? null,
        expires_at: hours === undefined ? null : new Date(Date.now() + hours * 3_600_000).toISOString(),
      });
      return { action: 'add', made: { name: made.name, token: made.token } };
    }),
  revoke: (event) =>
    formAction('revoke', async () => {
      const r = await revokeEnrolmentTokenById(actorOf(event), Number((await formFields(event)).id));
      return { action: 'revoke', revoked: r.name };
    }),
};
