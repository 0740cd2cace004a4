import { describe, expect, it } from 'vitest';
import { roleFor } from './oidc';

describe('roleFor', () => {
  const mapping = [
    ['homelab', 'viewer'],
    ['ops', 'operator'],
    ['vigil-admins', 'admin'],
  ] as const;

  it('gives the highest role of the groups that match, whatever their order', () => {
    expect(roleFor(['homelab', 'vigil-admins'], mapping)).toBe('admin');
    expect(roleFor(['ops', 'homelab'], mapping)).toBe('operator');
    expect(roleFor(['homelab'], mapping)).toBe('viewer');
  });

  it('gives none for groups nobody mapped, and `*` matches anyone', () => {
    expect(roleFor(['strangers'], mapping)).toBeNull();
    expect(roleFor([], mapping)).toBeNull();
    expect(roleFor([], [...mapping, ['*', 'viewer']])).toBe('viewer');
    expect(roleFor(['ops'], [['*', 'viewer'], ...mapping])).toBe('operator');
  });
});
