import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/index.js';
import { AuthModule, provideSsoRequirement } from '../auth/index.js';
import { TeamsModule } from '../teams/index.js';
import { ExchangeCode } from './entities/exchange-code.entity.js';
import { ExternalIdentity } from './entities/external-identity.entity.js';
import { SignInAttempt } from './entities/sign-in-attempt.entity.js';
import { SsoConnection } from './entities/sso-connection.entity.js';
import { SsoDomain } from './entities/sso-domain.entity.js';
import { GithubSignInController } from './github.controller.js';
import { GithubSignInService } from './github-sign-in.service.js';
import { OidcRelyingParty } from './oidc-relying-party.js';
import { OidcSignInService } from './oidc-sign-in.service.js';
import { SecretCipher } from './secret-cipher.js';
import { SignInFlow } from './sign-in-flow.service.js';
import { SignInRepository } from './sign-in.repository.js';
import { SsoConnectionsController, SsoSignInController } from './sso.controller.js';
import { SsoConnectionsRepository } from './sso-connections.repository.js';
import { SsoConnectionsService } from './sso-connections.service.js';
import { TeamSsoRequirement } from './sso-requirement.js';

/**
 * Single sign-on: teams' OpenID Connect providers and sign-in with GitHub. Depends on auth
 * (accounts, sessions) and teams (membership); auth learns of `require_sso` through its
 * SsoRequirement port, which this module provides.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([SsoConnection, SsoDomain, SignInAttempt, ExchangeCode, ExternalIdentity]),
    AuditModule,
    AuthModule,
    TeamsModule,
  ],
  controllers: [SsoConnectionsController, SsoSignInController, GithubSignInController],
  providers: [
    SsoConnectionsRepository,
    SignInRepository,
    SsoConnectionsService,
    OidcRelyingParty,
    OidcSignInService,
    GithubSignInService,
    SignInFlow,
    SecretCipher,
    ...provideSsoRequirement(TeamSsoRequirement),
  ],
})
export class SsoModule {}
