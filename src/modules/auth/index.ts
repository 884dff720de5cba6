/** What the auth module offers the rest of the app; nothing else of it is imported from outside. */
export { AuthModule } from './auth.module.js';
export { AccountsService, type TierChange } from './accounts.service.js';
export { AccountLifecycleService, type AccountIdentity } from './account-lifecycle.service.js';
export { SocketAuthService, type SocketPrincipal } from './socket-auth.service.js';
export type { Role, User } from './entities/user.entity.js';
export { assertQuotaIncluded, GIB, quotaBytes, type QuotaKind } from './quota.js';
export {
  ExternalAccountsService,
  type ExternalAccount,
  type SignUpVia,
} from './external-accounts.service.js';
export { provideSsoRequirement, SsoRequirement } from './sign-in-policy.js';
export { AuthTokensDto } from './dto/auth.dto.js';
