import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { CHECKSUM_PATTERN } from '../../../common/checksum.js';
import { IsBase64Payload } from '../../../common/input/base64.js';
import { NestedDto } from '../../../common/decorators/validation.decorators.js';

/** 1–200 characters, no control characters (they cannot be stored as text). */
const ITEM_ID = /^[^\p{Cc}]{1,200}$/u;
const ITEM_ID_MESSAGE = 'must be 1–200 characters without control characters';
export const MAX_BATCH = 500;
export const MAX_TOP_K = 100;
/** pgvector's HNSW index limit for `vector`; the configured VECTOR_DIMENSIONS is checked per item. */
const MAX_DIMENSIONS = 2000;

/**
 * 1–2000 finite numbers that fit a 32-bit float, checked in one pass (a
 * per-element validator costs ~1 s on a full batch of 1536-dim vectors).
 */
function IsVector(): PropertyDecorator {
  return ValidateBy({
    name: 'isVector',
    validator: {
      validate: (v: unknown) =>
        Array.isArray(v) &&
        v.length >= 1 &&
        v.length <= MAX_DIMENSIONS &&
        v.every((x) => typeof x === 'number' && Number.isFinite(Math.fround(x))),
      defaultMessage: (args) =>
        `${args?.property ?? 'vector'} must be an array of 1–${MAX_DIMENSIONS} finite numbers (32-bit floats)`,
    },
  });
}

/**
 * A vector's schema. It has exactly VECTOR_DIMENSIONS numbers (the service
 * refuses any other count with 400): the OpenAPI document builder writes the
 * configured value as minItems and maxItems on every property `@IsVector()` checks.
 */
const vectorProperty = (description: string) => ApiPropertyOptional({ type: [Number], description });

export class VectorItemDto {
  @ApiProperty({ description: "The client's id, unique per user; upsert replaces", maxLength: 200 })
  @IsString()
  @Matches(ITEM_ID, { message: `id ${ITEM_ID_MESSAGE}` })
  id!: string;

  @ApiProperty({ description: 'The encrypted item (payload and metadata), base64', format: 'byte' })
  @IsString()
  @IsBase64Payload({ message: 'blob must be base64' })
  blob!: string;

  @ApiProperty({
    description: 'Lowercase hex SHA-256 of the raw (decoded) blob',
    pattern: CHECKSUM_PATTERN.source,
  })
  @Matches(CHECKSUM_PATTERN, { message: 'checksum must be the lowercase hex SHA-256 of the raw bytes' })
  checksum!: string;

  @vectorProperty(
    'Semantic mode: VECTOR_DIMENSIONS floats computed on the device. Without it the item is found only by ' +
      'query_blob (blob-hash mode: identical blobs).',
  )
  @IsOptional()
  @IsVector()
  vector?: number[];
}

export class UpsertVectorsDto {
  @ApiProperty({ type: [VectorItemDto], minItems: 1, maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1, { message: 'vectors must contain at least 1 item' })
  @ArrayMaxSize(MAX_BATCH, { message: `vectors must contain at most ${MAX_BATCH} items per request` })
  @NestedDto(() => VectorItemDto, { each: true })
  vectors!: VectorItemDto[];
}

export class UpsertResultDto {
  @ApiProperty({ example: 2 })
  upserted!: number;
}

export class SearchVectorsDto {
  @ApiPropertyOptional({
    description: 'Blob-hash mode: finds items whose blob is identical to this one (score 1)',
    format: 'byte',
  })
  @IsOptional()
  @IsString()
  @IsBase64Payload({ message: 'query_blob must be base64' })
  query_blob?: string;

  @vectorProperty('Semantic mode: VECTOR_DIMENSIONS floats')
  @IsOptional()
  @IsVector()
  vector?: number[];

  @ApiPropertyOptional({
    description:
      'Semantic mode: embedded on the server with EMBEDDINGS_MODEL, used for this search only, never stored or ' +
      'logged (503 when no model endpoint is configured)',
    maxLength: 8000,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(8000)
  query_text?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TOP_K, default: 10 })
  @IsOptional()
  @IsInt({ message: 'top_k must be an integer' })
  @Min(1)
  @Max(MAX_TOP_K)
  top_k: number = 10;
}

export class VectorSearchResultDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'Cosine similarity, 1 = same direction', example: 0.93 })
  score!: number;

  @ApiProperty({ format: 'byte', description: 'The encrypted blob as stored, base64' })
  blob!: string;
}

export class VectorSearchResponseDto {
  @ApiProperty({ type: [VectorSearchResultDto], description: 'Best first' })
  results!: VectorSearchResultDto[];
}

export class DeleteVectorsDto {
  @ApiProperty({ type: [String], minItems: 1, maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1, { message: 'ids must contain at least 1 id' })
  @ArrayMaxSize(MAX_BATCH, { message: `ids must contain at most ${MAX_BATCH} ids per request` })
  @IsString({ each: true })
  @Matches(ITEM_ID, { each: true, message: `each id ${ITEM_ID_MESSAGE}` })
  ids!: string[];
}

export class DeleteVectorsResultDto {
  @ApiProperty({ example: true })
  ok!: true;

  @ApiProperty({ example: 2 })
  deleted!: number;
}

const topKProperty = () =>
  ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_TOP_K, default: 10 });

// The three shapes of a search body, for the OpenAPI document: SearchVectorsDto
// validates "exactly one of" at run time; clients get it as a oneOf of these.

/** Blob-hash mode. */
export class SearchByBlobDto {
  @ApiProperty({
    description: 'Finds items whose blob is identical to this one (score 1), base64',
    format: 'byte',
  })
  query_blob!: string;

  @topKProperty() top_k?: number;
}

/** Semantic mode, with a vector computed on the device. */
export class SearchByVectorDto {
  @ApiProperty({ type: [Number], description: 'VECTOR_DIMENSIONS floats' })
  // For the document only (this class is never validated): the rule that sets its length.
  @IsVector()
  vector!: number[];

  @topKProperty() top_k?: number;
}

/** Semantic mode, embedded on the server. */
export class SearchByTextDto {
  @ApiProperty({
    description:
      'Embedded on the server with EMBEDDINGS_MODEL, used for this search only, never stored or logged ' +
      '(503 when no model endpoint is configured)',
    minLength: 1,
    maxLength: 8000,
  })
  query_text!: string;

  @topKProperty() top_k?: number;
}
