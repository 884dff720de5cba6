import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupController } from './backup.controller.js';
import { BackupService } from './backup.service.js';
import { Backup } from './entities/backup.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([Backup])],
  controllers: [BackupController],
  providers: [BackupService],
})
export class BackupModule {}
