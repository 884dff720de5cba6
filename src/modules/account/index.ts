/** What the account module offers the rest of the app (an SSO module: disableAndSchedule, restoreVerified). */
export { AccountModule } from './account.module.js';
export { AccountErasureService } from './account-erasure.service.js';
