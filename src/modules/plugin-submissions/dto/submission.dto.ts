import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, Matches, MaxLength } from 'class-validator';
import { ErrorResponseDto } from '../../../common/dto/error-response.dto.js';
import { IsBase64Payload } from '../../../common/input/base64.js';
import {
  ALLOWED_PERMISSIONS,
  type CheckName,
  type CheckResult,
  type CheckStatus,
  PLUGIN_CATEGORIES,
} from '../checks/index.js';
import type { Plugin, PluginVersion, VersionStatus } from '../../plugin-catalog/index.js';

/** Largest package, in bytes once decoded. */
export const MAX_PACKAGE_BYTES = 10 * 1024 * 1024;
/** Its base64 length. */
export const MAX_PACKAGE_BASE64 = Math.ceil(MAX_PACKAGE_BYTES / 3) * 4;

/** The manifest a developer submits (checked by the automated checks, which list every problem). */
export class PluginManifestDto {
  @ApiProperty({ example: 'focus-timer', pattern: '^[a-z0-9-]+$', maxLength: 64 }) id!: string;
  @ApiProperty({ example: 'Focus Timer', maxLength: 100 }) name!: string;
  @ApiProperty({ example: 'Pomodoro sessions tied to your tasks.', maxLength: 2000 }) description!: string;
  @ApiProperty({ example: '1.0.0', description: 'Semantic version (semver.org 2.0.0)' }) version!: string;
  @ApiProperty({ example: 'Jane Developer', maxLength: 100 }) author!: string;
  @ApiProperty({ enum: ALLOWED_PERMISSIONS, isArray: true, example: ['read:tasks'] }) permissions!: string[];
  @ApiProperty({ enum: PLUGIN_CATEGORIES, example: 'Productivity' }) category!: string;
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: 100_000_00,
    example: 0,
    description: 'EUR cents; 0 for a free plugin',
  })
  price_cents!: number;
}

export class SubmitPluginDto {
  @ApiProperty({
    type: PluginManifestDto,
    description: 'Validated by the automated checks, which report every problem at once',
  })
  @IsObject()
  manifest!: Record<string, unknown>;

  @ApiProperty({
    description: `The plugin's files as a zip archive, base64 (at most ${MAX_PACKAGE_BYTES} bytes decoded)`,
    format: 'byte',
    maxLength: MAX_PACKAGE_BASE64,
  })
  @MaxLength(MAX_PACKAGE_BASE64, { message: `package must be at most ${MAX_PACKAGE_BYTES} bytes (decoded)` })
  @IsBase64Payload({ message: 'package must be base64 (standard alphabet, padded)' })
  package!: string;

  @ApiProperty({ description: 'Lowercase hex SHA-256 of the package bytes', pattern: '^[0-9a-f]{64}$' })
  @Matches(/^[0-9a-fA-F]{64}$/, {
    message: 'checksum must be the hex SHA-256 of the package (64 hex digits)',
  })
  checksum!: string;
}

export class CheckResultDto {
  @ApiProperty({ enum: ['manifest', 'checksum', 'package', 'secrets', 'squatting'] }) check!: CheckName;
  @ApiProperty({
    enum: ['passed', 'failed', 'held', 'errored'],
    description: 'held: goes to review with this reason; errored: the check could not run (never passed)',
  })
  status!: CheckStatus;
  @ApiProperty({ example: 'secret_detected', description: 'Reason code; README "Marketplace" lists them' })
  code!: string;
  @ApiProperty({ example: 'AWS access key (rule @secretlint/secretlint-rule-aws)' }) message!: string;
  @ApiPropertyOptional({ example: 'src/config.js', description: 'The file of the package it concerns' })
  file?: string;
  @ApiPropertyOptional({ example: 12, description: '1-based line in that file' }) line?: number;
}

/**
 * A 400 of a submission route: the error, plus `checks` when its code is
 * plugin_checks_failed. Other 400s there (validation_failed, malformed_json,
 * limit_reached) have no `checks`, so it is optional rather than a oneOf: a
 * body with `checks` would match both a plain error and this one.
 */
export class PluginChecksFailedErrorDto extends ErrorResponseDto {
  @ApiPropertyOptional({
    type: [CheckResultDto],
    description: 'With code plugin_checks_failed only: every check result, failed ones included',
  })
  checks?: CheckResultDto[];
}

const VERSION_STATUSES = ['pending_review', 'approved', 'rejected', 'checks_errored'];

export class SubmissionDto {
  @ApiProperty({ example: 'focus-timer' }) id!: string;
  @ApiProperty({ example: '1.0.0' }) version!: string;
  @ApiProperty({
    enum: VERSION_STATUSES,
    description: 'pending_review, or checks_errored when a check could not run (a person must look)',
  })
  status!: VersionStatus;
  @ApiProperty({ type: [CheckResultDto] }) checks!: CheckResultDto[];
}

/** One version of one of the caller's plugins, whatever its status. */
export class MyPluginVersionDto {
  @ApiProperty({ example: '1.0.0' }) version!: string;
  @ApiProperty({ enum: VERSION_STATUSES }) status!: VersionStatus;
  @ApiProperty({ type: [CheckResultDto] }) checks!: CheckResultDto[];
  @ApiProperty({ type: String, nullable: true, description: "The reviewer's notes (why it was rejected)" })
  review_notes!: string | null;
  @ApiProperty({ description: 'Lowercase hex SHA-256 of the package' }) sha256!: string;
  @ApiProperty({ description: 'Package size in bytes' }) size!: number;
  @ApiProperty({ description: 'ms since epoch' }) submitted_at!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'ms since epoch' }) reviewed_at!: number | null;
}

export class MyPluginDto {
  @ApiProperty({ example: 'focus-timer' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() category!: string;
  @ApiProperty() price_cents!: number;
  @ApiProperty({ description: 'Hidden from the catalog by an admin' }) quarantined!: boolean;
  @ApiProperty({ type: String, nullable: true }) quarantine_reason!: string | null;
  @ApiProperty({ type: [MyPluginVersionDto], description: 'Newest first' }) versions!: MyPluginVersionDto[];
}

export class MyPluginsDto {
  @ApiProperty({ type: [MyPluginDto] }) plugins!: MyPluginDto[];
}

export const mapChecks = (checks: CheckResult[]): CheckResultDto[] =>
  checks.map(({ check, status, code, message, file, line }) => ({
    check,
    status,
    code,
    message,
    ...(file !== undefined ? { file } : {}),
    ...(line !== undefined ? { line } : {}),
  }));

export function mapMyPluginVersion(v: PluginVersion): MyPluginVersionDto {
  return {
    version: v.version,
    status: v.status,
    checks: mapChecks(v.checks),
    review_notes: v.reviewNotes,
    sha256: v.sha256,
    size: v.size,
    submitted_at: v.createdAt.getTime(),
    reviewed_at: v.reviewedAt ? v.reviewedAt.getTime() : null,
  };
}

export function mapMyPlugin(plugin: Plugin, versions: PluginVersion[]): MyPluginDto {
  return {
    id: plugin.id,
    name: plugin.name,
    category: plugin.category,
    price_cents: plugin.priceCents,
    quarantined: plugin.quarantinedAt !== null,
    quarantine_reason: plugin.quarantineReason,
    versions: versions.map(mapMyPluginVersion),
  };
}
