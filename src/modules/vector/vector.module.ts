import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../../config/app-config.js';
import { StorageModule } from '../storage/index.js';
import { VectorItem } from './entities/vector-item.entity.js';
import { VectorIndexService } from './vector-index.service.js';
import { VectorRepository } from './vector.repository.js';
import { VectorController } from './vector.controller.js';
import { VectorService } from './vector.service.js';

/** Paths whose JSON bodies carry blobs and vectors (their limits are raised to fit a full request). */
export const VECTOR_UPSERT_PATH = '/api/v1/storage/vectors/upsert';
export const VECTOR_SEARCH_PATH = '/api/v1/storage/vectors/search';

/** Largest JSON body of `items` items: base64 blobs, vectors (≤ 26 characters a number) and some slack. */
export function vectorBodyLimit(config: AppConfig, items: number): number {
  const item = Math.ceil((config.vectorMaxBlobBytes * 4) / 3) + config.vectorDimensions * 26 + 1024;
  return items * item + 16 * 1024;
}

@Module({
  imports: [TypeOrmModule.forFeature([VectorItem]), StorageModule],
  controllers: [VectorController],
  providers: [VectorRepository, VectorService, VectorIndexService],
})
export class VectorModule {}
