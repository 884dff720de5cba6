import { parseRouterAnswer } from './router-answer.js';

const ALL = ['task_agent', 'project_agent', 'checkpoint_agent', 'note_agent'];
const FREE = ['task_agent', 'project_agent', 'note_agent'];

describe('parseRouterAnswer', () => {
  it.each([
    ['note_agent', ['note_agent']],
    ['  Note_Agent.\n', ['note_agent']],
    ['"project_agent"', ['project_agent']],
    ['`checkpoint_agent`', ['checkpoint_agent']],
    ['project_agent,task_agent', ['project_agent', 'task_agent']],
    ['project_agent, checkpoint_agent, note_agent', ['project_agent', 'checkpoint_agent', 'note_agent']],
  ])('reads %j', (answer, expected) => {
    expect(parseRouterAnswer(answer, ALL)).toEqual(expected);
  });

  it.each([
    '',
    'calendar_agent',
    'I would route this to note_agent',
    'note_agent, note_agent',
    'note_agent,,task_agent',
    'task_agent, project_agent, checkpoint_agent, note_agent, task_agent',
  ])('falls back to task_agent on %j', (answer) => {
    expect(parseRouterAnswer(answer, ALL)).toEqual(['task_agent']);
  });

  it('falls back when the answer names an agent the tier may not use, alone or in a pipeline', () => {
    expect(parseRouterAnswer('checkpoint_agent', FREE)).toEqual(['task_agent']);
    expect(parseRouterAnswer('project_agent,checkpoint_agent', FREE)).toEqual(['task_agent']);
  });
});
