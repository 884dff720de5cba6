import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { UserPush } from '../../common/realtime/user-push.js';
import { type UsageAlertEvent, UsageEvents } from './usage.events.js';

/**
 * Pushes the day's 80 % alert as `usage:alert {date, spent_usd, budget_usd}`
 * to the user's sockets on `/` (the storage gateway authenticates them and
 * puts each in its user's room; with REDIS_URL, rooms span instances).
 */
@Injectable()
export class UsageAlertPush implements OnModuleDestroy {
  private readonly onAlert = (userId: string, e: UsageAlertEvent) =>
    this.push.toUser(userId, 'usage:alert', e);

  constructor(
    private readonly events: UsageEvents,
    private readonly push: UserPush,
  ) {
    events.on('alert', this.onAlert);
  }

  onModuleDestroy(): void {
    this.events.off('alert', this.onAlert);
  }
}
