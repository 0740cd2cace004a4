import { type ActionFailure, fail, type RequestEvent } from '@sveltejs/kit';
import { AccountError, ChannelError, TargetExistsError } from '@vigil/db';
import * as z from 'zod/mini';
import { ApiError } from './api';
import { log } from './log';

/** What a form action answers: its own result, or a failure with a message for the page (and the field it is about). */
export type FormResult<T> = T | ActionFailure<{ message: string; field?: string; action: string }>;

/**
 * Runs a form action's work and turns known refusals into a 4xx `fail` with
 * the message to show (never a stack): bad input, a name taken, the last
 * admin, an unknown object. Anything else is logged and answered with a
 * generic message.
 */
export async function formAction<T>(action: string, work: () => Promise<T>): Promise<FormResult<T>> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ApiError) return fail(err.status, { message: err.message, field: err.field, action });
    if (err instanceof AccountError)
      return fail(err.code === 'not_found' ? 404 : err.code === 'invalid' ? 422 : 409, { message: err.message, action });
    if (err instanceof ChannelError) return fail(err.code === 'exists' ? 409 : 422, { message: err.message, field: err.field, action });
    if (err instanceof TargetExistsError) return fail(409, { message: err.message, field: 'name', action });
    if (err instanceof Error && /violates check constraint/.test(err.message))
      return fail(422, { message: 'a value is out of range (the timeout may not exceed the interval)', action });
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

/**
 * Checks parsed form values against a schema.
 * @throws ApiError 422 naming the first field that is wrong and why
 */
export function checkForm<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const r = z.safeParse(schema, value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.');
  throw new ApiError(422, 'invalid', `${field ? `${field}: ` : ''}${issue.message}`, field || undefined);
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
