import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { UserPush } from '../../common/realtime/user-push.js';
import { AccountEvents, type ExportReadyEvent } from './account.events.js';

/**
 * `account:export_ready {id, expires_at}` to the account's sockets on `/`
 * (the storage gateway authenticates them and joins each to its user's
 * room); the client then asks GET /account/export/{id} for its link.
 */
@Injectable()
export class ExportReadyPush implements OnModuleDestroy {
  private readonly onReady = (userId: string, event: ExportReadyEvent) =>
    this.push.toUser(userId, 'account:export_ready', event);

  constructor(
    private readonly events: AccountEvents,
    private readonly push: UserPush,
  ) {
    events.on('exportReady', this.onReady);
  }

  onModuleDestroy(): void {
    this.events.off('exportReady', this.onReady);
  }
}
