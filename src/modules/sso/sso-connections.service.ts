import { Injectable } from '@nestjs/common';
import { isUniqueViolation } from '../../database/sql.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { TeamsService } from '../teams/index.js';
import type { ConfigureSsoDto, SsoConnectionDto } from './dto/sso.dto.js';
import { mapSsoConnection } from './dto/sso.dto.js';
import type { SsoConnection } from './entities/sso-connection.entity.js';
import { OidcRelyingParty } from './oidc-relying-party.js';
import { SecretCipher } from './secret-cipher.js';
import { SsoConnectionsRepository } from './sso-connections.repository.js';
import { SsoException } from './sso.errors.js';

/**
 * A team's identity provider, configured by its owner: checked at save (discovery and JWKS),
 * the secret sealed, each email domain answered for by one team. Every read and write is
 * scoped by the team's owner role (a non-member gets 404, another role 403).
 */
@Injectable()
export class SsoConnectionsService {
  constructor(
    private readonly connections: SsoConnectionsRepository,
    private readonly teams: TeamsService,
    private readonly relyingParty: OidcRelyingParty,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async configure(userId: string, teamId: string, dto: ConfigureSsoDto): Promise<SsoConnectionDto> {
    await this.teams.requireRole(teamId, userId, ['owner']);
    const domains = [...new Set(dto.domains)].sort();
    // Sealed first: without a key (prod) nothing is fetched and nothing saved.
    const sealedSecret = await this.cipher.seal(dto.client_secret);
    const serverMetadata = await this.relyingParty.discover(dto.issuer, dto.client_id, dto.client_secret);
    try {
      return mapSsoConnection(
        await this.unitOfWork.run(async (tx) => {
          const taken = await this.connections.takenByOthers(tx, teamId, domains);
          if (taken.length > 0) throw domainsTaken(taken);
          const connection = await this.connections.save(tx, {
            teamId,
            issuer: String(serverMetadata.issuer),
            clientId: dto.client_id,
            clientSecretEncrypted: sealedSecret,
            domains,
            requireSso: dto.require_sso,
            serverMetadata,
          });
          const data = {
            issuer: connection.issuer,
            client_id: dto.client_id,
            domains,
            require_sso: dto.require_sso,
          };
          await this.audit.record(
            { eventType: 'sso.configured', actorId: userId, subjectId: teamId, data },
            tx,
          );
          return connection;
        }),
      );
    } catch (err) {
      // Two teams saving one domain at the same moment: the primary key lets one through.
      if (isUniqueViolation(err)) throw domainsTaken(domains);
      throw err;
    }
  }

  async get(userId: string, teamId: string): Promise<SsoConnectionDto> {
    await this.teams.requireRole(teamId, userId, ['owner', 'admin']);
    return mapSsoConnection(await this.findOrThrow(teamId));
  }

  async remove(userId: string, teamId: string): Promise<void> {
    await this.teams.requireRole(teamId, userId, ['owner']);
    await this.unitOfWork.run(async (tx) => {
      if (!(await this.connections.remove(tx, teamId))) throw notConfigured();
      await this.audit.record({ eventType: 'sso.removed', actorId: userId, subjectId: teamId }, tx);
    });
  }

  /** The connection of a team (for sign-in; no role check: signing in is how members arrive). */
  async findOrThrow(teamId: string): Promise<SsoConnection> {
    const connection = await this.connections.findByTeam(teamId);
    if (!connection) throw notConfigured();
    return connection;
  }

  /** The connection answering for the email's domain, or 404. */
  async forEmailOrThrow(email: string): Promise<SsoConnection> {
    const connection = await this.connections.findByDomain(domainOf(email));
    if (!connection) {
      throw new SsoException('not_found', 'No team signs in with single sign-on for this email domain');
    }
    return connection;
  }

  /** Whether a team requires single sign-on for the email's domain. */
  async requiresSso(email: string): Promise<boolean> {
    const connection = await this.connections.findByDomain(domainOf(email));
    return connection?.requireSso === true;
  }
}

export function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

function notConfigured(): SsoException {
  return new SsoException('not_found', 'This team has no single sign-on configured');
}

function domainsTaken(domains: string[]): SsoException {
  return new SsoException(
    'duplicate',
    `Another team's single sign-on already answers for ${domains.join(', ')}: a domain belongs to one team`,
    { domains },
  );
}
