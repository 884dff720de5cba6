import { Injectable } from '@nestjs/common';
import { normaliseEmail } from '../../common/input/email.js';
import { UnitOfWork } from '../../database/unit-of-work.js';
import { AuditService } from '../audit/index.js';
import { AccountsService, type Role } from '../auth/index.js';
import { AdminException } from './admin.errors.js';

/** What an operator's command did to one account. */
export interface OperatorRoleChange {
  userId: string;
  email: string;
  /** The role the account now acts with (in dev an ADMIN_EMAILS account stays admin when revoked). */
  role: Role;
  /** False when the stored role already was the one asked for (nothing written, nothing audited). */
  changed: boolean;
}

/**
 * The admin role as an operator grants and revokes it from the server's shell
 * (`npm run admin:grant` / `admin:revoke`): in production the only way to a
 * first admin, since registering an email proves nothing about who owns it.
 * Each change is written to the audit log in the same transaction.
 */
@Injectable()
export class OperatorRolesService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** `operator`: who ran the command, as the server's OS knows them (kept in the audit entry). */
  setRole(email: string, role: Role, operator: string): Promise<OperatorRoleChange> {
    return this.unitOfWork.run(async (tx) => {
      const user = await this.accounts.lockUserByEmail(tx, normaliseEmail(email));
      if (!user) throw new AdminException('not_found', `No account has the email ${normaliseEmail(email)}`);
      const from = user.role;
      const changed = from !== role;
      if (changed) {
        user.role = role;
        await this.accounts.saveUser(tx, user, false);
        await this.audit.record(
          {
            eventType: role === 'admin' ? 'admin.role_granted' : 'admin.role_revoked',
            actorId: null,
            subjectId: user.id,
            reason: 'operator command',
            data: { changes: { role: { from, to: role } }, operator },
          },
          tx,
        );
      }
      return { userId: user.id, email: user.email, role: this.accounts.roleOf(user), changed };
    });
  }
}
