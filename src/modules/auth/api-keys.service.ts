import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { AuditService } from '../audit/index.js';
import { API_KEY_PREFIX, type AuthUser } from './auth.types.js';
import type { ApiKeyDto, CreatedApiKeyDto } from './dto/auth.dto.js';
import { ApiKey } from './entities/api-key.entity.js';
import { sha256Hex } from './token.service.js';
import { AuthException } from './auth.errors.js';

export const MAX_API_KEYS = 25;

const toDto = (k: ApiKey): ApiKeyDto => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt.getTime(),
  last_used_at: k.lastUsedAt ? k.lastUsedAt.getTime() : null,
});

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(user: AuthUser, name: string): Promise<CreatedApiKeyDto> {
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    return this.ds.transaction(async (m) => {
      // Lock the owner's row so concurrent creates cannot pass the cap together.
      await m.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      const active = await m.count(ApiKey, { where: { userId: user.id, revokedAt: IsNull() } });
      if (active >= MAX_API_KEYS) {
        throw new AuthException(
          'limit_reached',
          `At most ${MAX_API_KEYS} API keys per account: revoke one first`,
        );
      }
      const row = m.create(ApiKey, {
        userId: user.id,
        name,
        prefix: key.slice(0, 8),
        keyHash: sha256Hex(key),
        lastUsedAt: null,
        revokedAt: null,
      });
      await m.insert(ApiKey, row);
      const saved = await m.findOneByOrFail(ApiKey, { id: row.id });
      await this.audit.record(
        {
          eventType: 'auth.api_key_created',
          actorId: user.id,
          subjectId: row.id,
          data: { name, prefix: row.prefix },
        },
        m,
      );
      return { ...toDto(saved), key };
    });
  }

  async list(user: AuthUser): Promise<ApiKeyDto[]> {
    const keys = await this.ds.getRepository(ApiKey).find({
      where: { userId: user.id, revokedAt: IsNull() },
      order: { createdAt: 'DESC' },
    });
    return keys.map(toDto);
  }

  async revoke(user: AuthUser, id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const rows = await returningRows<{ id: string }>(
        m,
        'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id',
        [id, user.id],
      );
      if (rows.length === 0) throw new AuthException('not_found', 'API key not found');
      await this.audit.record({ eventType: 'auth.api_key_revoked', actorId: user.id, subjectId: id }, m);
    });
  }
}
