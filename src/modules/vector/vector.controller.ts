import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';
import type { AppConfig } from '../../config/app-config.js';
import {
  MAX_BATCH,
  DeleteVectorsDto,
  DeleteVectorsResultDto,
  SearchByBlobDto,
  SearchByTextDto,
  SearchByVectorDto,
  SearchVectorsDto,
  UpsertResultDto,
  UpsertVectorsDto,
  VectorSearchResponseDto,
} from './dto/vector.dto.js';
import { VectorService } from './vector.service.js';

/**
 * Largest JSON body of `items` items: base64 blobs, vectors (≤ 26 characters a number) and some
 * slack. Upserts and searches carry blobs and vectors: their limits fit a full request.
 */
function vectorBodyLimit(config: AppConfig, items: number): number {
  const item = Math.ceil((config.vectorMaxBlobBytes * 4) / 3) + config.vectorDimensions * 26 + 1024;
  return items * item + 16 * 1024;
}

/** Object keys plus array items of `items` items with full vectors: each item's vector and its few keys. */
function vectorBodyEntries(config: AppConfig, items: number): number {
  return items * (config.vectorDimensions + 16) + 16;
}

@ApiTags('vectors')
@ApiErrors({ status: 503, description: 'The database has no pgvector extension' })
@ApiExtraModels(SearchByBlobDto, SearchByVectorDto, SearchByTextDto)
@Controller('storage/vectors')
export class VectorController {
  constructor(private readonly vectors: VectorService) {}

  @Post('upsert')
  @BodyLimit((config) => vectorBodyLimit(config, MAX_BATCH), 'json', {
    entries: (config) => vectorBodyEntries(config, MAX_BATCH),
  })
  @HttpCode(200)
  @ApiOperation({
    summary: 'Insert or replace items (1–500, one transaction: one bad item → 400 and nothing stored)',
    description:
      'Each item is an encrypted blob with its SHA-256 and, for semantic search, a vector of ' +
      'VECTOR_DIMENSIONS floats computed on the device. An item with the same id replaces the old one. ' +
      'Blobs count against the cloud storage quota.',
  })
  @ApiOkResponse({ type: UpsertResultDto })
  @ApiErrors(
    { status: 400, description: 'Checksum mismatch, wrong dimension, bad base64 (nothing stored)' },
    { status: 402, description: 'Cloud storage quota exceeded, or the tier has no cloud storage' },
    { status: 413, description: 'An item blob over VECTOR_MAX_BLOB_BYTES, or the body over its limit' },
  )
  upsertVectors(@CurrentUser() user: AuthUser, @Body() dto: UpsertVectorsDto): Promise<UpsertResultDto> {
    return this.vectors.upsert(user, dto);
  }

  @Post('search')
  @BodyLimit((config) => vectorBodyLimit(config, 1), 'json', {
    entries: (config) => vectorBodyEntries(config, 1),
  })
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Nearest items by cosine similarity (exactly one of query_blob, vector, query_text; top_k 1–100)',
    description:
      'query_blob finds items whose blob is identical (score 1); vector searches by cosine similarity; ' +
      'query_text is embedded on the server for this search only (503 when no embeddings model is ' +
      'configured). Results are the caller’s own items, best first.',
  })
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(SearchByBlobDto) },
        { $ref: getSchemaPath(SearchByVectorDto) },
        { $ref: getSchemaPath(SearchByTextDto) },
      ],
    },
  })
  @ApiOkResponse({ type: VectorSearchResponseDto })
  @ApiErrors({ status: 400, description: 'Not exactly one query, a wrong dimension or bad base64' })
  searchVectors(
    @CurrentUser() user: AuthUser,
    @Body() dto: SearchVectorsDto,
  ): Promise<VectorSearchResponseDto> {
    return this.vectors.search(user, dto);
  }

  @Delete()
  @ApiOperation({
    summary: "Delete the caller's items with these ids (others' ids are ignored)",
    description: 'deleted counts the items removed; ids that do not exist (or are not yours) are skipped.',
  })
  @ApiOkResponse({ type: DeleteVectorsResultDto })
  deleteVectors(
    @CurrentUser() user: AuthUser,
    @Body() dto: DeleteVectorsDto,
  ): Promise<DeleteVectorsResultDto> {
    return this.vectors.delete(user, dto);
  }
}
