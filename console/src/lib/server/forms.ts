/**
 * The admin and account pages' edge: each form action is `formAction(name, work)`,
 * reads its fields with {@link formFields}, shapes them like the API's body and
 * calls the same use case the API route does.
 */
import { type ActionFailure, fail, type RequestEvent } from '@sveltejs/kit';
import { ApiError, refusalOf } from './errors';
import { log } from './log';

/** What a form action answers: its own result, or a failure with a message for the page (and the field it is about). */
export type FormResult<T> = T | ActionFailure<{ message: string; field?: string; action: string }>;

/**
 * Runs a form action's work and turns refusals ({@link refusalOf}, the same as
 * the API's) into a 4xx `fail` with the message to show (never a stack).
 * Anything else is logged and answered with a generic message.
 */
export async function formAction<T>(action: string, work: () => Promise<T>): Promise<FormResult<T>> {
  try {
    return await work();
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) return fail(refusal.status, { message: refusal.message, field: refusal.field, action });
    log().error({ err, action }, 'form action failed');
    return fail(500, { message: 'that did not work because of an internal error; the console log has the details', action });
  }
}

/** The request's form fields as strings (files and repeated fields ignored). */
export async function formFields(event: RequestEvent): Promise<Record<string, string>> {
  const form = await event.request.formData();
  const out: Record<string, string> = {};
  for (const [k, v] of form) if (typeof v === 'string' && !(k in out)) out[k] = v;
  return out;
}

/** `key=value` pairs separated by commas or new lines (`rack=a, role=db`) as labels; an empty string is none. @throws ApiError 422 */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(/[,\n]/)) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 1) throw new ApiError(422, 'invalid', `labels: "${p.slice(0, 40)}" must be key=value`, 'labels');
    labels[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return labels;
}

/** A number from a form field, or undefined when empty. */
export function optionalNumber(v: string | undefined): number | undefined {
  return v === undefined || v.trim() === '' ? undefined : Number(v);
}
