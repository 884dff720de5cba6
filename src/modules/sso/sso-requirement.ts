import { Injectable } from '@nestjs/common';
import { SsoRequirement } from '../auth/index.js';
import { SsoConnectionsService } from './sso-connections.service.js';

/** Auth's port: a team with `require_sso` keeps the accounts of its email domains off passwords and new API keys. */
@Injectable()
export class TeamSsoRequirement extends SsoRequirement {
  constructor(private readonly connections: SsoConnectionsService) {
    super();
  }

  requiresSso(email: string): Promise<boolean> {
    return this.connections.requiresSso(email);
  }
}
