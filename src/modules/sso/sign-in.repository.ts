import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type Repository } from 'typeorm';
import { returningRows } from '../../database/sql.js';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { ExchangeCode } from './entities/exchange-code.entity.js';
import { ExternalIdentity } from './entities/external-identity.entity.js';
import { SignInAttempt, type SignInProvider } from './entities/sign-in-attempt.entity.js';

/** How long finished attempts and codes are kept before they are deleted (they are refused long before). */
const KEEP_AFTER_EXPIRY = "interval '1 hour'";

/** Sign-ins in flight (sign_in_attempts), their one-time codes, and accounts' external identities. */
@Injectable()
export class SignInRepository {
  constructor(
    @InjectRepository(SignInAttempt) private readonly attempts: Repository<SignInAttempt>,
    @InjectRepository(ExchangeCode) private readonly codes: Repository<ExchangeCode>,
    @InjectRepository(ExternalIdentity) private readonly identities: Repository<ExternalIdentity>,
  ) {}

  async insertAttempt(attempt: Omit<SignInAttempt, 'id' | 'createdAt' | 'usedAt'>): Promise<void> {
    await this.attempts.insert(this.attempts.create({ ...attempt, usedAt: null }));
  }

  /**
   * Marks the live attempt with this state used and returns it; null when there is none, it
   * was used already or it expired. Of two callbacks with one state, exactly one gets it.
   */
  async useAttempt(stateHash: string, provider: SignInProvider): Promise<SignInAttempt | null> {
    const rows = await returningRows<{ id: string }>(
      this.attempts.manager,
      `UPDATE sign_in_attempts SET used_at = now()
        WHERE state_hash = $1 AND provider = $2 AND used_at IS NULL AND expires_at > now()
        RETURNING id`,
      [stateHash, provider],
    );
    return rows.length > 0 ? this.attempts.findOne({ where: { id: rows[0].id } }) : null;
  }

  async insertCode(
    tx: Tx,
    code: Omit<ExchangeCode, 'createdAt' | 'usedAt' | 'failedPasswords'>,
  ): Promise<void> {
    const manager = managerOf(tx);
    await manager.insert(
      ExchangeCode,
      manager.create(ExchangeCode, { ...code, usedAt: null, failedPasswords: 0 }),
    );
  }

  /** The code if it is live (unused, unexpired) and of `provider`; not used up by this. */
  findLiveCode(codeHash: string, provider: SignInProvider): Promise<ExchangeCode | null> {
    return this.codes
      .createQueryBuilder('c')
      .where('c.code_hash = :codeHash AND c.provider = :provider', { codeHash, provider })
      .andWhere('c.used_at IS NULL AND c.expires_at > now()')
      .getOne();
  }

  /** Uses the live code up (inside `tx`) and returns it; null when it is not live (any more). */
  async useCode(tx: Tx, codeHash: string, provider: SignInProvider): Promise<ExchangeCode | null> {
    const rows = await returningRows<{ code_hash: string }>(
      managerOf(tx),
      `UPDATE sign_in_exchange_codes SET used_at = now()
        WHERE code_hash = $1 AND provider = $2 AND used_at IS NULL AND expires_at > now()
        RETURNING code_hash`,
      [codeHash, provider],
    );
    return rows.length > 0 ? managerOf(tx).findOne(ExchangeCode, { where: { codeHash } }) : null;
  }

  /** Counts a wrong password given with a link code; at `limit` the code is used up. */
  async countWrongPassword(codeHash: string, limit: number): Promise<void> {
    await this.codes.manager.query(
      `UPDATE sign_in_exchange_codes SET failed_passwords = failed_passwords + 1,
              used_at = CASE WHEN failed_passwords + 1 >= $2 THEN now() ELSE used_at END
        WHERE code_hash = $1`,
      [codeHash, limit],
    );
  }

  /** The account linked to this identity at a provider, or null. */
  async userOfIdentity(
    tx: Tx,
    provider: SignInProvider,
    issuer: string,
    subject: string,
  ): Promise<string | null> {
    const identity = await managerOf(tx).findOne(ExternalIdentity, { where: { provider, issuer, subject } });
    return identity?.userId ?? null;
  }

  /** Links the identity to the account (a link that exists already is kept); whether it is new. */
  async link(
    tx: Tx,
    identity: Pick<ExternalIdentity, 'provider' | 'issuer' | 'subject' | 'userId'>,
  ): Promise<boolean> {
    const manager = managerOf(tx);
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(ExternalIdentity)
      .values(manager.create(ExternalIdentity, identity))
      .orIgnore()
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** Deletes attempts and codes an hour past their expiry. */
  async purgeExpired(): Promise<void> {
    await this.attempts.manager.query(
      `DELETE FROM sign_in_attempts WHERE expires_at < now() - ${KEEP_AFTER_EXPIRY}`,
    );
    await this.codes.manager.query(
      `DELETE FROM sign_in_exchange_codes WHERE expires_at < now() - ${KEEP_AFTER_EXPIRY}`,
    );
  }
}
