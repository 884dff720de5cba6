/** What the vector module offers the rest of the app; nothing else of it is imported from outside. */
export { VectorModule } from './vector.module.js';
