import { z } from 'zod';
import {
  byId,
  createRecord,
  defineTool,
  deleteRecord,
  id,
  listed,
  notInContext,
  PROJECT_STATUS,
  proposed,
  records,
  sameId,
  updateRecord,
} from '../agent-tools.js';
import { RegisterAgent } from '../agent.decorator.js';
import { ChatAgent } from '../chat-agent.js';

const name = z.string().trim().min(1).max(300);

export const PROJECT_TOOLS = [
  defineTool({
    name: 'list_projects',
    description: "List a client's projects (active only unless include_archived).",
    schema: z.object({
      client_id: id('client').optional(),
      include_archived: z.boolean().optional(),
    }),
    run: ({ client_id, include_archived }, context) =>
      listed(
        records(context, 'projects').filter(
          (p) => sameId(p, 'client_id', client_id) && (include_archived === true || p.status !== 'archived'),
        ),
      ),
  }),
  defineTool({
    name: 'list_all_projects',
    description: 'List every project the app sent, archived ones included.',
    schema: z.object({}),
    run: (_args, context) => listed(records(context, 'projects')),
  }),
  defineTool({
    name: 'get_project',
    description: 'Read one project.',
    schema: z.object({ project_id: id('project') }),
    run: ({ project_id }, context) => {
      const project = byId(records(context, 'projects'), project_id);
      return project ? { result: project } : notInContext('project', project_id);
    },
  }),
  defineTool({
    name: 'create_project',
    description: 'Propose a new project.',
    schema: z.object({ name, client_id: id('client').optional() }),
    run: (args) => proposed(createRecord('projects', { ...args, status: 'active' })),
  }),
  defineTool({
    name: 'update_project',
    description: 'Propose changes to a project; archive it with status "archived" (preferred over deleting).',
    schema: z.object({
      project_id: id('project'),
      name: name.optional(),
      client_id: id('client').optional(),
      status: PROJECT_STATUS.optional(),
    }),
    run: ({ project_id, ...fields }) => proposed(updateRecord('projects', project_id, fields)),
  }),
  defineTool({
    name: 'delete_project',
    description:
      'Propose deleting a project for good. Only when the user explicitly asks to delete; otherwise archive ' +
      'it with update_project.',
    schema: z.object({ project_id: id('project') }),
    run: ({ project_id }) => proposed(deleteRecord('projects', project_id)),
  }),
];

@RegisterAgent()
export class ProjectAgent extends ChatAgent {
  readonly name = 'project_agent';
  readonly description = 'Manages projects: list, get, create, update, archive, delete';
  readonly templateId = 'tpl_project_agent_default' as const;
  readonly tools = PROJECT_TOOLS;
}
