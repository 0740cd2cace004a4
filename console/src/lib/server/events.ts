import type { Event } from '@vigil/db';
import type { EventView } from '$lib/api';

/** An event as the API shows it. */
export function eventView(e: Event & { target_name: string }): EventView {
  return {
    id: e.id,
    target_id: e.target_id,
    target_name: e.target_name,
    time: e.time.toISOString(),
    type: e.type,
    from_state: e.from_state,
    to_state: e.to_state,
    message: e.message,
  };
}
