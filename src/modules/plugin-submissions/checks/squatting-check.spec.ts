import { boundedLevenshtein, checkSquatting, normalizeName } from './squatting-check.js';

const existing = [
  { id: 'focus-timer', name: 'Focus Timer' },
  { id: 'todo', name: 'Todo' },
  { id: 'calendar-sync', name: 'Calendar Sync' },
];

describe('squatting check', () => {
  it('normalises ids and names to lowercase letters and digits', () => {
    expect(normalizeName('Focus-Timer!')).toBe('focustimer');
    expect(normalizeName('focus_timer 2')).toBe('focustimer2');
  });

  it('computes the Levenshtein distance up to a bound', () => {
    expect(boundedLevenshtein('kitten', 'sitting', 3)).toBe(3);
    expect(boundedLevenshtein('kitten', 'sitting', 2)).toBe(3);
    expect(boundedLevenshtein('focustimer', 'focustimer', 2)).toBe(0);
    expect(boundedLevenshtein('focustimer', 'focustimre', 2)).toBe(2);
    expect(boundedLevenshtein('abc', 'abcdef', 2)).toBe(3);
    expect(boundedLevenshtein('', 'ab', 2)).toBe(2);
  });

  it('holds an id within edit distance 2 of another author’s plugin, naming it', () => {
    expect(checkSquatting({ id: 'focus-tirner', name: 'My Focus' }, existing)).toEqual([
      {
        check: 'squatting',
        status: 'held',
        code: 'name_squatting',
        message: 'the id or name is close to that of another author\'s plugin "focus-timer"; held for review',
      },
    ]);
  });

  it('holds a name equal after normalisation, or close to another id', () => {
    expect(checkSquatting({ id: 'fokus', name: 'FOCUS  timer!' }, existing)).toHaveLength(1);
    expect(checkSquatting({ id: 'calendarsinc', name: 'Dates' }, existing)[0].message).toContain(
      '"calendar-sync"',
    );
  });

  it('uses distance 1 for short names', () => {
    expect(checkSquatting({ id: 'tod0', name: 'Tasks' }, existing)).toHaveLength(1);
    expect(checkSquatting({ id: 'tada', name: 'Tasks' }, existing)).toEqual([]);
  });

  it('does not flag the very same id (the caller answers 409) nor distant names', () => {
    expect(checkSquatting({ id: 'focus-timer', name: 'Focus Timer' }, existing)).toEqual([]);
    expect(checkSquatting({ id: 'weather-widget', name: 'Weather Widget' }, existing)).toEqual([]);
  });

  it('lists at most five plugins and counts the rest', () => {
    const many = [...Array(7).keys()].map((index) => ({ id: `notes-${index}`, name: `Notes ${index}` }));
    const [held] = checkSquatting({ id: 'notes', name: 'Notes' }, many);
    expect(held.message).toBe(
      'the id or name is close to that of another author\'s plugin "notes-0", "notes-1", "notes-2", "notes-3", "notes-4" and 2 more; held for review',
    );
  });
});
