import { z } from 'zod';
import {
  createRecord,
  defineTool,
  deleteRecord,
  id,
  listed,
  msTimestamp,
  proposed,
  records,
  sameId,
  title,
  unchangedIfMinusOne,
  updateRecord,
} from '../agent-tools.js';
import { RegisterAgent } from '../agent.decorator.js';
import { ChatAgent } from '../chat-agent.js';

const approval = {
  is_ai_suggested: z
    .boolean()
    .optional()
    .describe('True when you suggest the checkpoint on your own initiative'),
  is_approved: z.boolean().optional().describe('Whether the user approved an AI-suggested checkpoint'),
};

export const CHECKPOINT_TOOLS = [
  defineTool({
    name: 'list_checkpoints',
    description: "List a project's checkpoints (milestones), by date.",
    schema: z.object({ project_id: id('project') }),
    run: ({ project_id }, context) =>
      listed(
        records(context, 'checkpoints')
          .filter((c) => sameId(c, 'project_id', project_id))
          .sort((a, b) => Number(a.date ?? 0) - Number(b.date ?? 0)),
      ),
  }),
  defineTool({
    name: 'create_checkpoint',
    description: 'Propose a new checkpoint of a project.',
    schema: z.object({ project_id: id('project'), title, date: msTimestamp('Date'), ...approval }),
    run: (args) => proposed(createRecord('checkpoints', args)),
  }),
  defineTool({
    name: 'update_checkpoint',
    description: 'Propose changes to a checkpoint; only the fields given change (-1 leaves date unchanged).',
    schema: z.object({
      checkpoint_id: id('checkpoint'),
      title: title.optional(),
      date: unchangedIfMinusOne(msTimestamp('Date')),
      ...approval,
    }),
    run: ({ checkpoint_id, ...fields }) => proposed(updateRecord('checkpoints', checkpoint_id, fields)),
  }),
  defineTool({
    name: 'delete_checkpoint',
    description: 'Propose deleting a checkpoint.',
    schema: z.object({ checkpoint_id: id('checkpoint') }),
    run: ({ checkpoint_id }) => proposed(deleteRecord('checkpoints', checkpoint_id)),
  }),
];

@RegisterAgent()
export class CheckpointAgent extends ChatAgent {
  readonly name = 'checkpoint_agent';
  readonly description = 'Manages project checkpoints (milestones): list, create, update, delete';
  readonly templateId = 'tpl_checkpoint_agent_default' as const;
  readonly tools = CHECKPOINT_TOOLS;
  override readonly minTier = 'pro' as const;
}
