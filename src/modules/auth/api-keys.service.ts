import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ConnectionsService } from '../../common/realtime/connections.service.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsRepository } from './accounts.repository.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { API_KEY_PREFIX, type AuthUser } from './auth.types.js';
import { type ApiKeyDto, type CreatedApiKeyDto, mapApiKey } from './dto/auth.dto.js';
import { sha256Hex } from './token.service.js';
import { AuthException } from './auth.errors.js';
import { SignInPolicies } from './sign-in-policy.js';

export const MAX_API_KEYS = 25;

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly accounts: AccountsRepository,
    private readonly audit: AuditService,
    private readonly connections: ConnectionsService,
    private readonly unitOfWork: UnitOfWork,
    private readonly policies: SignInPolicies,
  ) {}

  async create(user: AuthUser, name: string): Promise<CreatedApiKeyDto> {
    // An API key outlives the sign-in that made it: a team that requires SSO keeps them off its domains.
    await this.policies.assertPasswordAllowed(user.email, 'new API keys');
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    return this.unitOfWork.run(async (tx) => {
      // Lock the owner's row so concurrent creates cannot pass the cap together.
      await this.accounts.lockById(tx, user.id);
      const active = await this.keys.countActiveForOwner(tx, user.id);
      if (active >= MAX_API_KEYS) {
        throw new AuthException(
          'limit_reached',
          `At most ${MAX_API_KEYS} API keys per account: revoke one first`,
        );
      }
      const saved = await this.keys.insert(tx, {
        userId: user.id,
        name,
        prefix: key.slice(0, 8),
        keyHash: sha256Hex(key),
        lastUsedAt: null,
        revokedAt: null,
      });
      await this.audit.record(
        {
          eventType: 'auth.api_key_created',
          actorId: user.id,
          subjectId: saved.id,
          data: { name, prefix: saved.prefix },
        },
        tx,
      );
      return { ...mapApiKey(saved), key };
    });
  }

  async list(user: AuthUser): Promise<ApiKeyDto[]> {
    return (await this.keys.listActiveForOwner(user.id)).map(mapApiKey);
  }

  async revoke(user: AuthUser, id: string): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      if (!(await this.keys.revokeForOwner(tx, user.id, id)))
        throw new AuthException('not_found', 'API key not found');
      await this.audit.record({ eventType: 'auth.api_key_revoked', actorId: user.id, subjectId: id }, tx);
    });
    await this.connections.revoke(
      { userId: user.id, apiKeyId: id },
      { code: 'unauthenticated', message: 'The API key of this connection was revoked' },
    );
  }
}
