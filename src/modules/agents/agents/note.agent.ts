import { z } from 'zod';
import {
  byId,
  createRecord,
  defineTool,
  deleteRecord,
  id,
  listed,
  longText,
  notInContext,
  proposed,
  records,
  sameId,
  title,
  updateRecord,
} from '../agent-tools.js';
import { RegisterAgent } from '../agent.decorator.js';
import { ChatAgent } from '../chat-agent.js';

const content = longText.describe('Markdown');

export const NOTE_TOOLS = [
  defineTool({
    name: 'list_notes',
    description: 'List the notes the app sent, optionally only those of one project (titles, no content).',
    schema: z.object({ project_id: id('project').optional() }),
    run: ({ project_id }, context) =>
      listed(
        records(context, 'notes')
          .filter((n) => sameId(n, 'project_id', project_id))
          .map(({ content: _content, ...rest }) => rest),
      ),
  }),
  defineTool({
    name: 'get_note',
    description: 'Read one note with its Markdown content; call it before update_note.',
    schema: z.object({ note_id: id('note') }),
    run: ({ note_id }, context) => {
      const note = byId(records(context, 'notes'), note_id);
      return note ? { result: note } : notInContext('note', note_id);
    },
  }),
  defineTool({
    name: 'create_note',
    description: 'Propose a new note, optionally linked to a project.',
    schema: z.object({ title, content, project_id: id('project').optional() }),
    run: (args) => proposed(createRecord('notes', args)),
  }),
  defineTool({
    name: 'update_note',
    description: 'Propose changes to a note; content replaces the whole text, so keep what should stay.',
    schema: z.object({
      note_id: id('note'),
      title: title.optional(),
      content: content.optional(),
      project_id: id('project').optional(),
    }),
    run: ({ note_id, ...fields }) => proposed(updateRecord('notes', note_id, fields)),
  }),
  defineTool({
    name: 'delete_note',
    description: 'Propose deleting a note.',
    schema: z.object({ note_id: id('note') }),
    run: ({ note_id }) => proposed(deleteRecord('notes', note_id)),
  }),
];

@RegisterAgent()
export class NoteAgent extends ChatAgent {
  readonly name = 'note_agent';
  readonly description = 'Manages notes: list, get, create, update, delete';
  readonly templateId = 'tpl_note_agent_default' as const;
  readonly tools = NOTE_TOOLS;
}
