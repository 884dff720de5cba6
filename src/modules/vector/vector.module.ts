import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { StorageModule } from '../storage/index.js';
import { VectorItem } from './entities/vector-item.entity.js';
import { VectorIndexService } from './vector-index.service.js';
import { VectorRepository } from './vector.repository.js';
import { VectorController } from './vector.controller.js';
import { VectorService } from './vector.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([VectorItem]), StorageModule],
  controllers: [VectorController],
  providers: [VectorRepository, VectorService, VectorIndexService],
})
export class VectorModule {}
