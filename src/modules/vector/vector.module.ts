import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../../config/app-config.js';
import { bodyParserRoute } from '../../common/http/body-parsers.js';
import { StorageModule } from '../storage/index.js';
import { MAX_BATCH } from './dto/vector.dto.js';
import { VectorItem } from './entities/vector-item.entity.js';
import { VectorIndexService } from './vector-index.service.js';
import { VectorRepository } from './vector.repository.js';
import { VectorController } from './vector.controller.js';
import { VectorService } from './vector.service.js';

/** Largest JSON body of `items` items: base64 blobs, vectors (≤ 26 characters a number) and some slack. */
function vectorBodyLimit(config: AppConfig, items: number): number {
  const item = Math.ceil((config.vectorMaxBlobBytes * 4) / 3) + config.vectorDimensions * 26 + 1024;
  return items * item + 16 * 1024;
}

@Module({
  imports: [TypeOrmModule.forFeature([VectorItem]), StorageModule],
  controllers: [VectorController],
  providers: [
    VectorRepository,
    VectorService,
    VectorIndexService,
    // Upserts and searches carry blobs and vectors: their limits fit a full request.
    bodyParserRoute({
      path: '/storage/vectors/upsert',
      kind: 'json',
      limit: (config) => vectorBodyLimit(config, MAX_BATCH),
    }),
    bodyParserRoute({
      path: '/storage/vectors/search',
      kind: 'json',
      limit: (config) => vectorBodyLimit(config, 1),
    }),
  ],
})
export class VectorModule {}
