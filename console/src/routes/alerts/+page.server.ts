import { listTargets, roleAtLeast } from '@vigil/db';
import { actorOf } from '$lib/server/actor';
import {
  createRule,
  createSilence,
  deleteRule,
  endSilence,
  listAlertViews,
  listRuleViews,
  listSilenceViews,
  ruleFromForm,
  setRuleEnabled,
  silenceAlert,
} from '$lib/server/alerts';
import { parseId } from '$lib/server/api';
import { getDb } from '$lib/server/db';
import { formAction, formFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

const PER_PAGE = 50;
const STATES = ['open', 'firing', 'pending', 'resolved', 'all'] as const;
const HELD = ['inhibited', 'silenced'] as const;

/** Alerts by `?state=` (open by default), `?host=`, `?held=` and `?page=`; the live silences; the rules. */
export const load: PageServerLoad = async ({ url, locals }) => {
  const s = url.searchParams.get('state');
  const state = STATES.find((x) => x === s) ?? 'open';
  const h = url.searchParams.get('held');
  const held = HELD.find((x) => x === h);
  const host = parseId(url.searchParams.get('host') ?? '') ?? undefined;
  const page = Math.max(1, Math.min(100_000, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1));
  const [alerts, silences, rules, targets] = await Promise.all([
    listAlertViews({ state, held, target: host === undefined ? undefined : String(host), page: String(page), per_page: String(PER_PAGE) }),
    listSilenceViews(),
    listRuleViews(),
    listTargets(await getDb()),
  ]);
  const role = locals.principal?.user.role;
  return {
    alerts: alerts.items,
    total: alerts.total,
    page,
    pages: Math.max(1, Math.ceil(alerts.total / PER_PAGE)),
    filter: { state, held: held ?? null, host: host ?? null },
    states: STATES,
    hosts: targets.map((t) => ({ id: t.id, name: t.name })),
    silences,
    rules,
    canOperate: role !== undefined && roleAtLeast(role, 'operator'),
    serverTime: Date.now(),
  };
};

export const actions: Actions = {
  silence: (event) =>
    formAction('silence', async () => {
      const f = await formFields(event);
      const s = await silenceAlert(actorOf(event), Number(f.id), Math.round(Number(f.hours || 2) * 3600), f.comment ?? '');
      return { action: 'silence', silenced: s.matchers };
    }),
  addSilence: (event) =>
    formAction('addSilence', async () => {
      const f = await formFields(event);
      const s = await createSilence(actorOf(event), {
        matchers: f.matchers ?? '',
        duration_seconds: Math.round(Number(f.hours || 2) * 3600),
        comment: f.comment ?? '',
        ...(f.schedule?.trim()
          ? {
              schedule: f.schedule.trim(),
              window_seconds: Math.round(Number(f.window_minutes || 60) * 60),
              duration_seconds: 10 * 365 * 86_400,
            }
          : {}),
      });
      return { action: 'addSilence', silenced: s.matchers };
    }),
  expire: (event) =>
    formAction('expire', async () => {
      const s = await endSilence(actorOf(event), Number((await formFields(event)).id));
      return { action: 'expire', expired: s.matchers };
    }),
  addRule: (event) =>
    formAction('addRule', async () => {
      const { rule, warning } = await createRule(actorOf(event), ruleFromForm(await formFields(event)));
      return { action: 'addRule', added: rule.name, warning };
    }),
  toggleRule: (event) =>
    formAction('toggleRule', async () => {
      const f = await formFields(event);
      const rule = await setRuleEnabled(actorOf(event), Number(f.id), f.enabled === 'true');
      return { action: 'toggleRule', toggled: rule.name };
    }),
  removeRule: (event) =>
    formAction('removeRule', async () => {
      const rule = await deleteRule(actorOf(event), Number((await formFields(event)).id));
      return { action: 'removeRule', removed: rule.name };
    }),
};
