import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One secret per account (any UUID an entry names as actor or subject): the
 * HMAC key of its pseudonym in the audit chain. Kept apart from the log so an
 * erasure can destroy it; the pseudonyms already in the chain then link to
 * nobody. No foreign key: audit entries outlive accounts.
 */
@Entity('audit_pseudonym_keys')
export class AuditPseudonymKey {
  @PrimaryColumn('uuid')
  subjectId!: string;

  /** 32 random bytes, hex. */
  @Column('char', { length: 64 })
  secret!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
