/** What the vector module offers the rest of the app; nothing else of it is imported from outside. */
export * from './dto/vector.dto.js';
export * from './vector.module.js';
