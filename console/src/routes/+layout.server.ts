import type { LayoutServerLoad } from './$types';

/** The signed-in user's name and role, for the header (null on the sign-in page). */
export const load: LayoutServerLoad = async ({ locals }) => {
  const user = locals.principal?.user;
  return { user: user ? { name: user.name, role: user.role } : null };
};
