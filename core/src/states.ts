/**
 * The words of Vigil's model that every program and the browser share, declared
 * once: a target's liveness states and the console's roles.
 */

/**
 * Liveness of a target as the scraper last decided it: `unknown` (not judged
 * yet, or resumed), `up`, `down` (fell silent), `stopped` (its exporter said
 * goodbye on a clean shutdown: no alert).
 */
export const TARGET_STATES = ['unknown', 'up', 'down', 'stopped'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

/**
 * The console's roles, most powerful first: `admin` (users, targets,
 * everything), `operator` (targets, pause, terminals), `developer` (read,
 * terminals, container logs), `viewer` (read only).
 */
export const ROLES = ['admin', 'operator', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` has at least the rights of `least`. */
export function roleAtLeast(role: Role, least: Role): boolean {
  return ROLES.indexOf(role) <= ROLES.indexOf(least);
}

/** Whether a string is one of {@link ROLES}. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
