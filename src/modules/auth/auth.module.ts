import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FeatureGuard } from '../../common/guards/feature.guard.js';
import { RolesGuard } from '../../common/guards/roles.guard.js';
import { SessionsRepository } from './sessions.repository.js';
import { RateLimitGuard } from '../../common/rate-limit/rate-limit.guard.js';
import { AuthFailureLimiter } from '../../common/rate-limit/auth-failure-limiter.js';
import { RequestBodyGuard } from '../../common/http/request-body.guard.js';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { AuthAccountDataRepository } from './account-data.repository.js';
import { AccountLifecycleService } from './account-lifecycle.service.js';
import { AccountsRepository } from './accounts.repository.js';
import { AuthAccountData } from './auth.account-data.js';
import { AccountsService } from './accounts.service.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { CredentialsService } from './credentials.service.js';
import { ApiKey } from './entities/api-key.entity.js';
import { RefreshToken } from './entities/refresh-token.entity.js';
import { Session } from './entities/session.entity.js';
import { User } from './entities/user.entity.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { PasswordService } from './password.service.js';
import { PrincipalService } from './principal.service.js';
import { PrincipalsRepository } from './principals.repository.js';
import { SocketAuthService } from './socket-auth.service.js';
import { AccessTokenStrategy } from './strategies/access-token.strategy.js';
import { ApiKeyStrategy } from './strategies/api-key.strategy.js';
import { AuthPassport } from './strategies/auth-passport.js';
import { TokenService } from './token.service.js';
import { ExternalAccountsService } from './external-accounts.service.js';
import { SignInPolicies } from './sign-in-policy.js';

/**
 * Accounts and access. The global guards run in this order on every request:
 * authentication (passport: JWT or API key, unless @Public), the body (read only now,
 * under its route's limit), the rate limit (which needs the principal's tier,
 * and the body for sign-in limits), the role check, the tier gate.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User, Session, RefreshToken, ApiKey]), JwtModule.register({})],
  controllers: [AuthController],
  providers: [
    AccountsRepository,
    SessionsRepository,
    ApiKeysRepository,
    PrincipalsRepository,
    AccountsService,
    AuthService,
    ApiKeysService,
    PasswordService,
    PrincipalService,
    SocketAuthService,
    TokenService,
    AccessTokenStrategy,
    ApiKeyStrategy,
    AuthPassport,
    CredentialsService,
    AuthFailureLimiter,
    AuthAccountDataRepository,
    AccountLifecycleService,
    ...provideAccountDataParticipant(AuthAccountData),
    ExternalAccountsService,
    SignInPolicies,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useExisting: RequestBodyGuard },
    { provide: APP_GUARD, useExisting: RateLimitGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: FeatureGuard },
  ],
  exports: [
    AccountsService,
    SocketAuthService,
    AccountLifecycleService,
    ExternalAccountsService,
    SignInPolicies,
  ],
})
export class AuthModule {}
