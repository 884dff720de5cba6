import {
  Column,
  CreateDateColumn,
  Entity,
  ForeignKey,
  Index,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * One item of a user's vector store: the client's id, its encrypted blob and
 * the vectors it is found by. The vectors are plain `real[]` columns so this
 * table exists on any PostgreSQL; pgvector's HNSW indexes are built over casts
 * of them (`hash_vector::vector(32)`, `embedding::vector(<VECTOR_DIMENSIONS>)`)
 * at start where the extension is available (see VectorIndexService).
 */
@Entity('vector_items')
/** Blob-hash queries first look for identical blobs by checksum: exact, whatever the index returns. */
@Index('ix_vector_items_user_checksum', ['userId', 'checksum'])
export class VectorItem {
  /** The owner; referenced by entity name so this module does not import the auth module's entities. */
  @ForeignKey('User', { onDelete: 'CASCADE' })
  @PrimaryColumn('uuid')
  userId!: string;

  /** The client's id, unique per user. */
  @PrimaryColumn('varchar', { length: 200 })
  itemId!: string;

  /** The encrypted bytes, stored as sent (the server never decrypts them). */
  @Column('bytea')
  blob!: Buffer;

  @Column('char', { length: 64 })
  checksum!: string;

  @Column('int')
  sizeBytes!: number;

  /** 32 floats derived from the blob's SHA-256: finds identical blobs (blob-hash mode). */
  @Column('real', { array: true })
  hashVector!: number[];

  /** The client's semantic vector (semantic mode), or null. */
  @Column('real', { array: true, nullable: true })
  embedding!: number[] | null;

  /** Length of `embedding`; the HNSW index of the configured dimension covers the rows where it matches. */
  @Column('smallint', { nullable: true })
  dims!: number | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
