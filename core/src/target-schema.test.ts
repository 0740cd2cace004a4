import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { LABEL_LIMITS, labelsProblem, newTarget, RESERVED_LABELS, targetPatch, validLabels } from './target-schema.js';

const issue = (value: unknown) => {
  const r = z.safeParse(newTarget, value);
  return r.success ? null : { field: r.error.issues[0]!.path.join('.'), message: r.error.issues[0]!.message };
};

describe('target labels', () => {
  it('take Prometheus label names with values', () => {
    expect(labelsProblem({ rack: 'a', role_1: 'db', _x: '' })).toBeNull();
    expect(issue({ name: 'pi-1', url: 'http://pi-1:9110/metrics', labels: { rack: 'a' } })).toBeNull();
  });

  it.each([
    [{ 'a-b': 'x' }, /label name "a-b" is not a Prometheus label name/],
    [{ '1a': 'x' }, /not a Prometheus label name/],
    [{ __name__: 'x' }, /"__name__": names starting with __ are Prometheus' own/],
    [{ __scheme__: 'https' }, /Prometheus' own/],
    [{ instance: 'x' }, /"instance" is one Vigil or Prometheus sets itself/],
    [{ job: 'x' }, /"job" is one Vigil or Prometheus sets itself/],
    [{ vigil_target: 'x' }, /"vigil_target" is one/],
    [{ rack: 'x'.repeat(LABEL_LIMITS.maxValueLength + 1) }, /the value of label "rack" is longer than 200 characters/],
  ])('refuse %j, saying why', (labels, message) => {
    expect(labelsProblem(labels)).toMatch(message);
    expect(issue({ name: 'pi-1', url: 'http://pi-1:9110/metrics', labels })).toMatchObject({ field: 'labels', message });
  });

  it('refuse a huge name without quoting it whole', () => {
    const name = 'a'.repeat(100_000);
    const problem = labelsProblem({ [name]: '1' })!;
    expect(problem).toMatch(/longer than 64 characters/);
    expect(problem.length).toBeLessThan(150);
    const r = issue({ name: 'pi-1', url: 'http://pi-1:9110/metrics', labels: { [name]: '1' } })!;
    expect(r.field).toBe('labels');
    expect(r.message.length).toBeLessThan(150);
  });

  it('are at most 32', () => {
    const many = Object.fromEntries(Array.from({ length: LABEL_LIMITS.maxLabels + 1 }, (_, i) => [`l${i}`, 'v']));
    expect(labelsProblem(many)).toBe('at most 32 labels (got 33)');
    expect(labelsProblem(Object.fromEntries(Object.entries(many).slice(1)))).toBeNull();
  });

  it('follow the same rules in a change', () => {
    expect(z.safeParse(targetPatch, { labels: { job: 'x' } }).success).toBe(false);
    expect(z.safeParse(targetPatch, { labels: { rack: 'b' } }).success).toBe(true);
    expect(RESERVED_LABELS).toEqual(['instance', 'job', 'vigil_target']);
  });
});

describe('validLabels', () => {
  it('keeps the labels that follow the rules, as stored before they held', () => {
    expect(validLabels({ rack: 'a', instance: 'x', __name__: 'y', 'a-b': 'z', ['n'.repeat(100_000)]: '1', role: 'db' })).toEqual({
      rack: 'a',
      role: 'db',
    });
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`l${i}`, 'v']));
    expect(Object.keys(validLabels(many))).toHaveLength(LABEL_LIMITS.maxLabels);
  });
});
