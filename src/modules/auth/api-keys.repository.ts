import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, type Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { ApiKey } from './entities/api-key.entity.js';

/** Integrators' API keys (stored hashed). */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>) {}

  async countActiveForOwner(tx: Tx, userId: string): Promise<number> {
    const manager = managerOf(tx);
    return manager.count(ApiKey, { where: { userId, revokedAt: IsNull() } });
  }

  async insert(tx: Tx, key: Omit<ApiKey, 'id' | 'createdAt'>): Promise<ApiKey> {
    const manager = managerOf(tx);
    const row = manager.create(ApiKey, key);
    await manager.insert(ApiKey, row);
    return manager.findOneByOrFail(ApiKey, { id: row.id });
  }

  async listActiveForOwner(userId: string): Promise<ApiKey[]> {
    return this.keys.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  /** Revokes the user's key; answers whether it was live. */
  async revokeForOwner(tx: Tx, userId: string, id: string): Promise<boolean> {
    const manager = managerOf(tx);
    const rows = await returningRows<{ id: string }>(
      manager,
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id',
      [id, userId],
    );
    return rows.length > 0;
  }

  async revokeAllOfUser(tx: Tx, userId: string): Promise<void> {
    const manager = managerOf(tx);
    await manager.update(ApiKey, { userId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }
}
