/** What the auth module offers the rest of the app; nothing else of it is imported from outside. */
export * from './auth.module.js';
export * from './auth.service.js';
export * from './entities/user.entity.js';
export * from './principal.service.js';
export * from './socket-auth.service.js';
