import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';

/** An email domain and the one team connection that answers for it (the primary key makes it one). */
@Entity('sso_domains')
export class SsoDomain {
  @PrimaryColumn('varchar', { length: 253 })
  domain!: string;

  @Index('ix_sso_domains_team')
  @ForeignKey('SsoConnection', { onDelete: 'CASCADE' })
  @Column('uuid')
  teamId!: string;
}
