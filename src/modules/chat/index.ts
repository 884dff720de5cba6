/** What the chat module offers the rest of the app; nothing else of it is imported from outside. */
export * from './chat.module.js';
