/** What plugin submissions offer the rest of the app; nothing else of it is imported from outside. */
export { PluginSubmissionsModule } from './plugin-submissions.module.js';
