import type { ToolMessage } from '@langchain/core/messages';
import { FEATURES } from '../../../common/tiers/tiers.js';
import { type AgentTool, langChainTools, toolConfig } from '../agent-tools.js';
import type { ChatContext } from '../agent.types.js';
import { CHECKPOINT_TOOLS, CheckpointAgent } from './checkpoint.agent.js';
import { NOTE_TOOLS, NoteAgent } from './note.agent.js';
import { PROJECT_TOOLS, ProjectAgent } from './project.agent.js';
import { TASK_TOOLS, TaskAgent } from './task.agent.js';

const find = (tools: readonly AgentTool[], name: string) => tools.find((t) => t.name === name)!;
/** The tool as the tool loop runs it: built into its LangChain tool, invoked with a tool call. */
const run = async (spec: AgentTool, args: Record<string, unknown>, context: ChatContext = {}) => {
  const [t] = await langChainTools([spec]);
  const message = (await t.invoke(
    { id: 'c1', name: t.name, args, type: 'tool_call' },
    toolConfig(context),
  )) as ToolMessage;
  return {
    result: JSON.parse(message.content as string) as Record<string, unknown>,
    actions: message.artifact,
  };
};
const DUE = Date.UTC(2030, 5, 1);

describe('agent tools', () => {
  it('have exactly the reference tool counts', () => {
    expect([TASK_TOOLS.length, PROJECT_TOOLS.length, CHECKPOINT_TOOLS.length, NOTE_TOOLS.length]).toEqual([
      8, 6, 4, 5,
    ]);
  });

  it('free tier gets as many agents as the feature matrix says, checkpoint_agent needs pro', () => {
    const agents = [new TaskAgent(), new ProjectAgent(), new CheckpointAgent(), new NoteAgent()];
    expect(agents.filter((a) => a.minTier === 'free')).toHaveLength(FEATURES.free.agents);
    expect(new CheckpointAgent().minTier).toBe('pro');
  });

  it('create_task: enums and ms timestamps checked, status defaults to todo', async () => {
    const create = find(TASK_TOOLS, 'create_task');
    await expect(run(create, { title: 'A', priority: 'urgent' })).rejects.toThrow(/priority/);
    await expect(run(create, { title: 'A', status: 'blocked' })).rejects.toThrow(/status/);
    await expect(run(create, { title: 'A', due_date: '2030-06-01' })).rejects.toThrow(/due_date/);
    await expect(run(create, { title: 'A', due_date: 1_900_000_000 })).rejects.toThrow(/due_date/); // seconds
    await expect(run(create, { title: '' })).rejects.toThrow(/title/);
    await expect(run(create, { title: 'A', assignees: '["Ada", 3]' })).rejects.toThrow(/JSON-encoded/);
    const ok = await run(create, { title: 'A', priority: 'high', due_date: DUE, assignees: '["Ada"]' });
    expect(ok.actions).toEqual([
      {
        type: 'create_record',
        table: 'tasks',
        data: { title: 'A', priority: 'high', due_date: DUE, assignees: '["Ada"]', status: 'todo' },
        agent: null,
      },
    ]);
    expect(ok.result).toMatchObject({ status: 'proposed', table: 'tasks' });
  });

  it('update tools carry only what changes; -1 leaves a date unchanged', async () => {
    const update = await run(find(TASK_TOOLS, 'update_task'), {
      task_id: 't1',
      due_date: -1,
      status: 'done',
    });
    expect(update.actions).toEqual([
      { type: 'update_record', table: 'tasks', data: { id: 't1', status: 'done' }, agent: null },
    ]);
    const cp = await run(find(CHECKPOINT_TOOLS, 'update_checkpoint'), { checkpoint_id: 'c', date: DUE });
    expect(cp.actions).toEqual([
      { type: 'update_record', table: 'checkpoints', data: { id: 'c', date: DUE }, agent: null },
    ]);
  });

  it('create_checkpoint needs a project and a date', async () => {
    const create = find(CHECKPOINT_TOOLS, 'create_checkpoint');
    await expect(run(create, { title: 'Launch', date: DUE })).rejects.toThrow(/project_id/);
    await expect(run(create, { project_id: 'p', title: 'Launch' })).rejects.toThrow(/date/);
  });

  it('project status is active or archived', async () => {
    const update = find(PROJECT_TOOLS, 'update_project');
    await expect(run(update, { project_id: 'p', status: 'deleted' })).rejects.toThrow(/status/);
    expect((await run(update, { project_id: 'p', status: 'archived' })).actions).toEqual([
      { type: 'update_record', table: 'projects', data: { id: 'p', status: 'archived' }, agent: null },
    ]);
  });

  it('read tools answer from the context only', async () => {
    const now = Date.now();
    const context: ChatContext = {
      recent_tasks: [
        { id: 1, title: 'Due', status: 'todo', due_date: now - 1000, project_id: 'p' },
        { id: 2, title: 'Done', status: 'done', due_date: now - 1000 },
        { id: 3, title: 'Later', status: 'todo', due_date: now + 10 * 86_400_000 },
      ],
      projects: [
        { id: 'p', name: 'P', status: 'active', client_id: 'c' },
        { id: 'q', name: 'Q', status: 'archived', client_id: 'c' },
      ],
      notes: [{ id: 'n', title: 'N', content: '# body', project_id: 'p' }],
      checkpoints: [
        { id: 'k2', project_id: 'p', date: 2 },
        { id: 'k1', project_id: 'p', date: 1 },
      ],
    };
    const due = await run(find(TASK_TOOLS, 'list_tasks_due_today'), {}, context);
    expect(due.result).toMatchObject({ count: 1, items: [{ id: 1 }] });
    expect(due.actions).toEqual([]);
    const byProject = await run(find(TASK_TOOLS, 'list_tasks'), { project_id: 'p' }, context);
    expect(byProject.result).toMatchObject({ count: 1 });
    const active = await run(find(PROJECT_TOOLS, 'list_projects'), { client_id: 'c' }, context);
    expect(active.result).toMatchObject({ count: 1, items: [{ id: 'p' }] });
    const all = await run(
      find(PROJECT_TOOLS, 'list_projects'),
      { client_id: 'c', include_archived: true },
      context,
    );
    expect(all.result).toMatchObject({ count: 2 });
    expect((await run(find(PROJECT_TOOLS, 'get_project'), { project_id: 'zz' }, context)).result).toEqual({
      error: 'No project with id zz in the context the app sent',
    });
    const notes = await run(find(NOTE_TOOLS, 'list_notes'), {}, context);
    expect(notes.result).toEqual({ count: 1, items: [{ id: 'n', title: 'N', project_id: 'p' }] });
    const note = await run(find(NOTE_TOOLS, 'get_note'), { note_id: 'n' }, context);
    expect(note.result).toMatchObject({ content: '# body' });
    const cps = await run(find(CHECKPOINT_TOOLS, 'list_checkpoints'), { project_id: 'p' }, context);
    expect((cps.result.items as Array<{ id: string }>).map((c) => c.id)).toEqual(['k1', 'k2']);
  });
});
