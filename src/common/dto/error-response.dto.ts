import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorCode } from '../errors/error-codes.js';

/** The body of every error response. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    enum: ERROR_CODES,
    enumName: 'ErrorCode',
    description: 'Machine-readable error code; the same situation always has the same code and status',
    example: 'validation_failed',
  })
  code!: ErrorCode;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['email must be an email'],
  })
  message!: string | string[];

  @ApiProperty({ example: '8f14e45f-ceea-467f-a0e6-1f1e2d9b2c3a' })
  request_id!: string;
}

/** A 409 on a stale write: the error plus what the client needs to merge and retry. */
export class VersionConflictErrorDto extends ErrorResponseDto {
  @ApiProperty({ example: 4, description: 'The version stored now; retry with it as base_version' })
  current_version!: number;

  @ApiProperty({ description: 'Lowercase hex SHA-256 of the bytes stored now' })
  checksum!: string;
}
