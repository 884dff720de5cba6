/** What the chat module offers the rest of the app; nothing else of it is imported from outside. */
export * from './chat.module.js';
/** The largest valid chat event, which the Socket.IO server's packet limit is sized to. */
export { MAX_CHAT_EVENT_BYTES } from './dto/chat.dto.js';
