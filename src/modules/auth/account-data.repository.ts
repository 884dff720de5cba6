import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';

export interface SessionExportRow {
  id: string;
  device_name: string | null;
  created_at: Date;
  last_used_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface ApiKeyExportRow {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface ProfileRow {
  id: string;
  email: string;
  role: 'user' | 'admin';
  tier_override: string | null;
  /** Null for accounts made by single sign-on or GitHub. */
  password_hash: string | null;
  created_at: Date;
  disabled_at: Date | null;
}

/** What an account's export and erasure read and remove of the auth module's tables. */
@Injectable()
export class AuthAccountDataRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async userOf(userId: string): Promise<ProfileRow | null> {
    const [row] = await this.db.query<ProfileRow[]>(
      `SELECT id, email, role, tier_override, password_hash, created_at, disabled_at FROM users WHERE id = $1`,
      [userId],
    );
    return row ?? null;
  }

  async userByEmail(email: string): Promise<ProfileRow | null> {
    const [row] = await this.db.query<ProfileRow[]>(
      `SELECT id, email, role, tier_override, password_hash, created_at, disabled_at FROM users WHERE email = $1`,
      [email],
    );
    return row ?? null;
  }

  sessionsOf(userId: string): Promise<SessionExportRow[]> {
    return this.db.query(
      `SELECT id, device_name, created_at, last_used_at, revoked_at, revoked_reason
         FROM sessions WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
  }

  /** Names and prefixes only: the key hashes never leave the database. */
  apiKeysOf(userId: string): Promise<ApiKeyExportRow[]> {
    return this.db.query(
      `SELECT id, name, prefix, created_at, last_used_at, revoked_at
         FROM api_keys WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
  }

  /** The user row; sessions, refresh tokens and API keys go with it (ON DELETE CASCADE). */
  async deleteUser(userId: string): Promise<void> {
    await this.db.query('DELETE FROM users WHERE id = $1', [userId]);
  }

  async setDisabled(tx: Tx, userId: string, disabled: boolean): Promise<void> {
    await managerOf(tx).query(
      `UPDATE users SET disabled_at = CASE WHEN $2 THEN now() ELSE NULL END, updated_at = now() WHERE id = $1`,
      [userId, disabled],
    );
  }
}
