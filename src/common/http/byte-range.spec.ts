import { satisfiableRange } from './byte-range.js';

describe('satisfiableRange', () => {
  it('reads a start-end, an open-ended and a suffix range, clamped to the content', () => {
    expect(satisfiableRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(satisfiableRange(' bytes=90- ', 100)).toEqual({ start: 90, end: 99 });
    expect(satisfiableRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(satisfiableRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(satisfiableRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it('answers undefined for a range it cannot satisfy', () => {
    for (const header of [
      'bytes=100-',
      'bytes=5-2',
      'bytes=-',
      'items=0-1',
      'bytes=0-1,3-4',
      'bytes=a-b',
      '',
    ]) {
      expect([header, satisfiableRange(header, 100)]).toEqual([header, undefined]);
    }
    expect(satisfiableRange('bytes=0-', 0)).toBeUndefined();
    expect(satisfiableRange('bytes=-5', 0)).toBeUndefined();
  });
});
