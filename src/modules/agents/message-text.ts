import type { AIMessage } from '@langchain/core/messages';

/** The text of a model's answer (its text parts joined; tool calls and other parts left out). */
export function textOf(message: AIMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((part) => (typeof part === 'string' ? part : part.type === 'text' ? String(part.text) : ''))
    .join('');
}
