import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './database.options.js';
import { DatabaseService } from './database.service.js';
import { EmbeddedPostgresService } from './embedded/embedded-postgres.service.js';
import { UnitOfWork } from './unit-of-work.js';

@Module({ providers: [EmbeddedPostgresService], exports: [EmbeddedPostgresService] })
class EmbeddedPostgresModule {}

@Global()
@Module({
  imports: [
    EmbeddedPostgresModule,
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedPostgresModule],
      inject: [AppConfig, EmbeddedPostgresService],
      useFactory: async (config: AppConfig, db: EmbeddedPostgresService) => ({
        ...dataSourceOptions(config, await db.connectionUrl(), db.isEmbedded, db.connectionStream),
        entities: undefined,
        autoLoadEntities: true,
        retryAttempts: 5,
        retryDelay: 2000,
      }),
    }),
  ],
  providers: [DatabaseService, UnitOfWork],
  exports: [DatabaseService, UnitOfWork],
})
export class DatabaseModule {}
