import { z } from 'zod';
import {
  assigneesJson,
  byId,
  createRecord,
  defineTool,
  deleteRecord,
  id,
  listed,
  longText,
  msTimestamp,
  notInContext,
  PRIORITY,
  proposed,
  records,
  sameId,
  TASK_STATUS,
  textField,
  title,
  unchangedIfMinusOne,
  updateRecord,
} from '../agent-tools.js';
import { RegisterAgent } from '../agent.decorator.js';
import { ChatAgent } from '../chat-agent.js';

const DAY_MS = 86_400_000;
const PRIORITY_RANK: Record<string, number> = { high: 0, medium: 1, low: 2 };

const taskFields = {
  description: longText.optional().describe('Details, Markdown'),
  status: TASK_STATUS.optional(),
  priority: PRIORITY.optional(),
  assignees: assigneesJson.optional(),
  project_id: id('project').optional(),
  is_ai_suggested: z.boolean().optional().describe('True when you suggest the task on your own initiative'),
  is_approved: z.boolean().optional().describe('Whether the user approved an AI-suggested task'),
};

const orderValue = (task: Record<string, unknown>, key: string): number | string => {
  if (key === 'priority') return PRIORITY_RANK[String(task.priority)] ?? 3;
  const v = task[key];
  return typeof v === 'number' ? v : typeof v === 'string' ? v.toLowerCase() : Number.MAX_SAFE_INTEGER;
};

export const TASK_TOOLS = [
  defineTool({
    name: 'list_tasks',
    description:
      'List the tasks the app sent, optionally filtered by project, status or a search text, and ordered.',
    schema: z.object({
      project_id: id('project').optional(),
      status: TASK_STATUS.optional(),
      search: z.string().max(200).optional().describe('Case-insensitive text in the title or description'),
      order_by: z.enum(['due_date', 'priority', 'created_at', 'updated_at', 'title']).optional(),
    }),
    run: (args, context) => {
      const search = args.search?.toLowerCase();
      const tasks = records(context, 'recent_tasks').filter(
        (t) =>
          sameId(t, 'project_id', args.project_id) &&
          (!args.status || t.status === args.status) &&
          (!search ||
            `${textField(t, 'title')} ${textField(t, 'description')}`.toLowerCase().includes(search)),
      );
      const key = args.order_by;
      if (key) {
        tasks.sort((a, b) => {
          const x = orderValue(a, key);
          const y = orderValue(b, key);
          return x < y ? -1 : x > y ? 1 : 0;
        });
      }
      return listed(tasks);
    },
  }),
  defineTool({
    name: 'create_task',
    description: 'Propose a new task.',
    schema: z.object({
      title,
      ...taskFields,
      due_date: msTimestamp('Due date').optional(),
    }),
    run: (args) => proposed(createRecord('tasks', { ...args, status: args.status ?? 'todo' })),
  }),
  defineTool({
    name: 'update_task',
    description: 'Propose changes to a task; only the fields given change (-1 leaves due_date unchanged).',
    schema: z.object({
      task_id: id('task'),
      title: title.optional(),
      ...taskFields,
      due_date: unchangedIfMinusOne(msTimestamp('Due date')),
    }),
    run: ({ task_id, ...fields }) => proposed(updateRecord('tasks', task_id, fields)),
  }),
  defineTool({
    name: 'delete_task',
    description: 'Propose deleting a task.',
    schema: z.object({ task_id: id('task') }),
    run: ({ task_id }) => proposed(deleteRecord('tasks', task_id)),
  }),
  defineTool({
    name: 'list_tasks_due_today',
    description: 'List the open tasks (not done) whose due date is today (UTC) or earlier.',
    schema: z.object({}),
    run: (_args, context) => {
      const endOfToday = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS;
      return listed(
        records(context, 'recent_tasks').filter(
          (t) => typeof t.due_date === 'number' && t.due_date < endOfToday && t.status !== 'done',
        ),
      );
    },
  }),
  defineTool({
    name: 'list_task_comments',
    description: 'List the comments of a task that the app sent.',
    schema: z.object({ task_id: id('task') }),
    run: ({ task_id }, context) => {
      const task = byId(records(context, 'recent_tasks'), task_id);
      const comments = records(context, 'task_comments').filter((c) => textField(c, 'task_id') === task_id);
      if (comments.length === 0 && Array.isArray(task?.comments)) {
        return listed(records({ comments: task.comments }, 'comments'));
      }
      if (comments.length === 0 && !task) return notInContext('task', task_id);
      return listed(comments);
    },
  }),
  defineTool({
    name: 'add_task_comment',
    description: 'Propose a comment on a task.',
    schema: z.object({
      task_id: id('task'),
      author: z.string().trim().min(1).max(200).describe('Who writes the comment (e.g. "Adiuva" for you)'),
      content: z.string().trim().min(1).max(20_000),
    }),
    run: (args) => proposed(createRecord('task_comments', args)),
  }),
  defineTool({
    name: 'delete_task_comment',
    description: 'Propose deleting a task comment.',
    schema: z.object({ comment_id: id('comment') }),
    run: ({ comment_id }) => proposed(deleteRecord('task_comments', comment_id)),
  }),
];

@RegisterAgent()
export class TaskAgent extends ChatAgent {
  readonly name = 'task_agent';
  readonly description = 'Manages tasks and comments: list, create, update, delete, due-today, comments';
  readonly templateId = 'tpl_task_agent_default' as const;
  readonly tools = TASK_TOOLS;
}
