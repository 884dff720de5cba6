import type { Backup } from '../entities/backup.entity.js';
import { ApiProperty } from '@nestjs/swagger';

export class BackupCreatedDto {
  @ApiProperty({ enum: [true] }) ok!: true;
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() size_bytes!: number;
  @ApiProperty() created_at!: number;
}

export class BackupInfoDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'The client’s timestamp, ms' }) timestamp!: number;
  @ApiProperty() checksum!: string;
  @ApiProperty({ description: 'Parts stored (S3 multipart parts; 1 for files)' }) chunk_count!: number;
  @ApiProperty() size_bytes!: number;
  @ApiProperty() created_at!: number;
}

export function mapBackupInfo(backup: Backup): BackupInfoDto {
  return {
    id: backup.id,
    version: backup.version,
    timestamp: Number(backup.timestamp),
    checksum: backup.checksum,
    chunk_count: backup.chunkCount,
    size_bytes: Number(backup.sizeBytes),
    created_at: backup.createdAt.getTime(),
  };
}
