import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeploymentSecret } from './deployment-secret.entity.js';
import { DeploymentSecretsRepository } from './deployment-secrets.repository.js';

/** Per-deployment generated secrets, for any module that needs one. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([DeploymentSecret])],
  providers: [DeploymentSecretsRepository],
  exports: [DeploymentSecretsRepository],
})
export class SecretsModule {}
