import { describe, expect, it } from 'vitest';
import { isRole, ROLES, roleAtLeast } from './states.js';

describe('roles', () => {
  it('rank admin over operator over developer over viewer', () => {
    expect(roleAtLeast('admin', 'viewer')).toBe(true);
    expect(roleAtLeast('operator', 'developer')).toBe(true);
    expect(roleAtLeast('developer', 'operator')).toBe(false);
    expect(roleAtLeast('viewer', 'developer')).toBe(false);
    for (const r of ROLES) expect(roleAtLeast(r, r)).toBe(true);
  });
  it('are told from other strings', () => {
    expect(ROLES.filter(isRole)).toEqual(ROLES);
    expect(isRole('root')).toBe(false);
    expect(isRole('Admin')).toBe(false);
  });
});
