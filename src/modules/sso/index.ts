/** What the sso module offers the rest of the app: the module (its routes, and auth's SsoRequirement). */
export { SsoModule } from './sso.module.js';
