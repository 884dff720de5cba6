import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DeploymentSecret } from './deployment-secret.entity.js';

/**
 * Values generated once per deployment and shared by every instance (the
 * prompt canary, the plugin signing key). The first instance to ask creates
 * the value; every later ask, on any instance, reads that same value.
 */
@Injectable()
export class DeploymentSecretsRepository {
  constructor(@InjectRepository(DeploymentSecret) private readonly secrets: Repository<DeploymentSecret>) {}

  /** The value named `name`, created with `generate()` if there is none yet (a concurrent create loses and reads). */
  async getOrCreate(name: string, generate: () => string): Promise<string> {
    await this.secrets.createQueryBuilder().insert().values({ name, value: generate() }).orIgnore().execute();
    return (await this.secrets.findOneByOrFail({ name })).value;
  }
}
