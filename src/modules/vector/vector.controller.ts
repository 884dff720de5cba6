import { Body, Controller, Delete, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiPaymentRequiredResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import {
  DeleteVectorsDto,
  DeleteVectorsResultDto,
  SearchVectorsDto,
  UpsertResultDto,
  UpsertVectorsDto,
  VectorSearchResponseDto,
} from './dto/vector.dto.js';
import { VectorService } from './vector.service.js';

@ApiTags('vectors')
@ApiBearerAuth()
@ApiServiceUnavailableResponse({
  type: ErrorResponseDto,
  description: 'The database has no pgvector extension',
})
@Controller('storage/vectors')
export class VectorController {
  constructor(private readonly vectors: VectorService) {}

  @Post('upsert')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Insert or replace items (1–500, one transaction: one bad item → 400 and nothing stored)',
  })
  @ApiOkResponse({ type: UpsertResultDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Checksum mismatch, wrong dimension, bad base64',
  })
  @ApiPaymentRequiredResponse({
    type: ErrorResponseDto,
    description: 'Cloud storage quota exceeded or not in tier',
  })
  upsert(@CurrentUser() user: AuthUser, @Body() dto: UpsertVectorsDto): Promise<UpsertResultDto> {
    return this.vectors.upsert(user, dto);
  }

  @Post('search')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Nearest items by cosine similarity (exactly one of query_blob, vector, query_text; top_k 1–100)',
  })
  @ApiOkResponse({ type: VectorSearchResponseDto })
  search(@CurrentUser() user: AuthUser, @Body() dto: SearchVectorsDto): Promise<VectorSearchResponseDto> {
    return this.vectors.search(user, dto);
  }

  @Delete()
  @ApiOperation({ summary: "Delete the caller's items with these ids (others' ids are ignored)" })
  @ApiOkResponse({ type: DeleteVectorsResultDto })
  delete(@CurrentUser() user: AuthUser, @Body() dto: DeleteVectorsDto): Promise<DeleteVectorsResultDto> {
    return this.vectors.delete(user, dto);
  }
}
