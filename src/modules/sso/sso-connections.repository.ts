import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, type Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { SsoConnection } from './entities/sso-connection.entity.js';
import { SsoDomain } from './entities/sso-domain.entity.js';

/** The sso_connections and sso_domains tables. */
@Injectable()
export class SsoConnectionsRepository {
  constructor(
    @InjectRepository(SsoConnection) private readonly connections: Repository<SsoConnection>,
    @InjectRepository(SsoDomain) private readonly domains: Repository<SsoDomain>,
  ) {}

  findByTeam(teamId: string): Promise<SsoConnection | null> {
    return this.connections.findOne({ where: { teamId } });
  }

  /** The connection that answers for an email domain, if any. */
  async findByDomain(domain: string): Promise<SsoConnection | null> {
    const owner = await this.domains.findOne({ where: { domain } });
    return owner ? this.findByTeam(owner.teamId) : null;
  }

  /** Of `domains`, those another team's connection answers for. */
  async takenByOthers(tx: Tx, teamId: string, domains: string[]): Promise<string[]> {
    if (domains.length === 0) return [];
    const rows = await managerOf(tx).find(SsoDomain, {
      where: { domain: In(domains), teamId: Not(teamId) },
    });
    return rows.map((row) => row.domain).sort();
  }

  /** Creates or replaces the team's connection and the domains it answers for. */
  async save(tx: Tx, connection: Omit<SsoConnection, 'createdAt' | 'updatedAt'>): Promise<SsoConnection> {
    const manager = managerOf(tx);
    await manager.delete(SsoDomain, { teamId: connection.teamId });
    await manager.save(SsoConnection, manager.create(SsoConnection, connection));
    await manager.insert(
      SsoDomain,
      connection.domains.map((domain) => ({ domain, teamId: connection.teamId })),
    );
    return manager.findOneOrFail(SsoConnection, { where: { teamId: connection.teamId } });
  }

  /** Removes the team's connection (its domains go with it); whether there was one. */
  async remove(tx: Tx, teamId: string): Promise<boolean> {
    const result = await managerOf(tx).delete(SsoConnection, { teamId });
    return (result.affected ?? 0) > 0;
  }
}
