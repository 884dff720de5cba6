import { Module } from '@nestjs/common';
import { provideAccountDataParticipant } from '../../common/account-data/account-data.registry.js';
import { VectorAccountDataRepository } from './account-data.repository.js';
import { VectorAccountData } from './vector.account-data.js';
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
  providers: [
    VectorRepository,
    VectorService,
    VectorIndexService,
    VectorAccountDataRepository,
    ...provideAccountDataParticipant(VectorAccountData),
  ],
})
export class VectorModule {}
