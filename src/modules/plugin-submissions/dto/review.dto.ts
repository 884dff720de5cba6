import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { PageOf } from '../../../common/dto/pagination.dto.js';
import type { PluginVersion, VersionStatus } from '../../plugin-catalog/index.js';
import { CheckResultDto, mapChecks, PluginManifestDto } from './submission.dto.js';

export const REVIEW_DECISIONS = ['approved', 'rejected'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export class ReviewPluginDto {
  @ApiProperty({ enum: REVIEW_DECISIONS })
  @IsIn(REVIEW_DECISIONS)
  decision!: ReviewDecision;

  @ApiPropertyOptional({
    maxLength: 2000,
    description: 'Shown to the author (GET /plugins/mine); required to reject, so a rejection is explained',
  })
  @ValidateIf((o: ReviewPluginDto) => o.decision === 'rejected' || o.notes !== undefined)
  @IsString()
  @MinLength(1, { message: 'notes must say why when the decision is rejected' })
  @MaxLength(2000)
  notes?: string;

  @ApiPropertyOptional({
    example: '1.1.0',
    description: 'The version decided on; needed only when more than one version of the plugin is pending',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Za-z.+-]{1,64}$/, { message: 'version must be a semantic version' })
  version?: string;
}

export class QuarantinePluginDto {
  @ApiProperty({ maxLength: 2000, example: 'Exfiltrates notes to a third-party server' })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  reason!: string;
}

export class ReviewQueueItemDto {
  @ApiProperty({ example: 'focus-timer' }) plugin_id!: string;
  @ApiProperty({ example: '1.0.0' }) version!: string;
  @ApiProperty({ enum: ['pending_review', 'checks_errored'] }) status!: VersionStatus;
  @ApiProperty({ format: 'uuid' }) author_id!: string;
  @ApiProperty({ type: String, nullable: true, description: "The author's account email" })
  author_email!: string | null;
  @ApiProperty({ type: PluginManifestDto }) manifest!: Record<string, unknown>;
  @ApiProperty({ type: [CheckResultDto], description: 'What the automated checks found' })
  checks!: CheckResultDto[];
  @ApiProperty() sha256!: string;
  @ApiProperty() size!: number;
  @ApiProperty({ description: 'ms since epoch' }) submitted_at!: number;
}

export class ReviewQueuePageDto extends PageOf(ReviewQueueItemDto) {}

export class ReviewResultDto {
  @ApiProperty({ example: 'focus-timer' }) plugin_id!: string;
  @ApiProperty({ example: '1.0.0' }) version!: string;
  @ApiProperty({ enum: REVIEW_DECISIONS }) status!: ReviewDecision;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The registry's signature of an approved package (base64 Ed25519 over its SHA-256)",
  })
  signature!: string | null;
}

export class QuarantineResultDto {
  @ApiProperty({ enum: [true] }) ok!: true;
  @ApiProperty({ example: 'focus-timer' }) plugin_id!: string;
  @ApiProperty({ description: 'ms since epoch' }) quarantined_at!: number;
  @ApiProperty({
    description:
      'Whether every package was moved aside, so download links already given out stopped working ' +
      '(false: the blob store failed for some; retrying the call finishes the move)',
  })
  downloads_revoked!: boolean;
}

export function mapQueueItem(
  version: PluginVersion,
  authorId: string,
  email: string | null,
): ReviewQueueItemDto {
  return {
    plugin_id: version.pluginId,
    version: version.version,
    status: version.status,
    author_id: authorId,
    author_email: email,
    manifest: version.manifest,
    checks: mapChecks(version.checks),
    sha256: version.sha256,
    size: version.size,
    submitted_at: version.createdAt.getTime(),
  };
}
