import { describe, expect, it } from 'vitest';
import { noteBuild } from './update';

function memory(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  };
}

describe('noteBuild', () => {
  it('says nothing on the first start and remembers the build', () => {
    const s = memory();
    expect(noteBuild('aaa', s)).toBe(false);
    expect(s.data.get('skilltrack_build')).toBe('aaa');
  });

  it('says "updated" once after the build changed, then not again', () => {
    const s = memory({ skilltrack_build: 'aaa' });
    expect(noteBuild('bbb', s)).toBe(true);
    expect(noteBuild('bbb', s)).toBe(false);
    expect(s.data.get('skilltrack_build')).toBe('bbb');
  });

  it('stays quiet without a build id or without storage', () => {
    const s = memory({ skilltrack_build: 'aaa' });
    expect(noteBuild(null, s)).toBe(false);
    expect(s.data.get('skilltrack_build')).toBe('aaa');
    expect(noteBuild('bbb', undefined)).toBe(false);
    const throwing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {},
    };
    expect(noteBuild('bbb', throwing)).toBe(false);
  });
});
