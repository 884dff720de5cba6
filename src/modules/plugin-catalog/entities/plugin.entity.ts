import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A plugin of the marketplace, named by its manifest id (`github-sync`). The
 * id belongs to its first author. The full-text index over name and
 * description is an expression index created by the Marketplace migration
 * (TypeORM cannot declare one); the catalog query repeats its expression.
 */
@Entity('plugins')
export class Plugin {
  @PrimaryColumn('varchar', { length: 64 })
  id!: string;

  /**
   * The author. No foreign key: when an author's account is erased, a plugin
   * others installed or bought stays, unlisted, under the account's pseudonym.
   */
  @Index('ix_plugins_author_id')
  @Column('uuid')
  authorId!: string;

  @Column('varchar', { length: 100 })
  name!: string;

  @Column('text')
  description!: string;

  @Index('ix_plugins_category')
  @Column('varchar', { length: 32 })
  category!: string;

  /** 0 for free plugins; paid ones are sold in a later release. */
  @Column('integer', { default: 0 })
  priceCents!: number;

  @Column('varchar', { length: 3, default: 'EUR' })
  currency!: string;

  /** Set by an admin: hidden from the catalog and its downloads refused, installs kept. */
  @Column('timestamptz', { nullable: true })
  quarantinedAt!: Date | null;

  @Column('text', { nullable: true })
  quarantineReason!: string | null;

  /** Set when its author's account was erased: out of the catalog's listing, installs and downloads kept. */
  @Column('timestamptz', { nullable: true })
  unlistedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}
