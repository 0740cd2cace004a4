/**
 * The console's one mapping from what goes wrong to an HTTP answer: the API's
 * `{error}` bodies and the form actions' failures both come from
 * {@link refusalOf}, so a name taken is a 409 and a bad field a 422 wherever
 * it is asked.
 */
import { AccountError, AlertRuleError, ChannelError, EnrolmentError, StatusPageExistsError, TargetExistsError } from '@vigil/db';
import * as z from 'zod/mini';

/** A refusal with its HTTP status, a code for programs, a message for people and the field it is about. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** What a refusal answers: status, code (`bad_request`, `invalid`, `not_found`, `conflict`, …), message, field. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  field?: string;
}

const ACCOUNT_STATUS = { exists: 409, not_found: 404, invalid: 422, last_admin: 409 } as const;

/**
 * The refusal an error stands for: an {@link ApiError} as it is; the database
 * package's refusals (an account, a channel or a target's name taken or
 * invalid, the last admin); a check constraint the schema enforces. Null for
 * anything else: an internal error, logged by the caller and never shown.
 */
export function refusalOf(err: unknown): Refusal | null {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message, field: err.field };
  if (err instanceof AccountError)
    return { status: ACCOUNT_STATUS[err.code], code: err.code === 'exists' ? 'conflict' : err.code, message: err.message };
  if (err instanceof TargetExistsError) return { status: 409, code: 'conflict', message: err.message, field: 'name' };
  if (err instanceof StatusPageExistsError) return { status: 409, code: 'conflict', message: err.message, field: 'slug' };
  if (err instanceof AlertRuleError)
    return {
      status: err.code === 'exists' ? 409 : err.code === 'missing' ? 404 : 422,
      code: err.code === 'exists' ? 'conflict' : err.code === 'missing' ? 'not_found' : 'invalid',
      message: err.message,
      field: err.field,
    };
  if (err instanceof EnrolmentError && (err.code === 'exists' || err.code === 'invalid'))
    return {
      status: err.code === 'exists' ? 409 : 422,
      code: err.code === 'exists' ? 'conflict' : 'invalid',
      message: err.message,
      field: err.code === 'exists' ? 'name' : err.message.split(':')[0],
    };
  if (err instanceof ChannelError)
    return {
      status: err.code === 'exists' ? 409 : 422,
      code: err.code === 'exists' ? 'conflict' : 'invalid',
      message: err.message,
      field: err.field,
    };
  if (err instanceof Error && (err as { code?: string }).code === '23514')
    return { status: 422, code: 'invalid', message: 'a value is out of range (the timeout may not exceed the interval)' };
  return null;
}

/**
 * Checks input (a JSON body, or a form's fields made into one) against a schema.
 * @throws ApiError 422 naming the first field that is wrong and why
 */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const r = z.safeParse(schema, value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.');
  throw new ApiError(422, 'invalid', field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

/** @throws ApiError 404 `no <what> with id <id>` */
export function notFound(what: string, id: number | string): never {
  throw new ApiError(404, 'not_found', `no ${what} with id ${String(id).slice(0, 20)}`);
}
