import { EventEmitter } from 'node:events';

/** The 80 % alert: once a day per user, to the user's room on `/`. */
export interface UsageAlertEvent {
  date: string;
  spent_usd: number;
  budget_usd: number;
}

/** In-process events of the usage module (the gateway pushes them to sockets). */
export class UsageEvents extends EventEmitter<{ alert: [userId: string, event: UsageAlertEvent] }> {}
