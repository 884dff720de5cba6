import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

export interface ExportReadyEvent {
  id: string;
  expires_at: number;
}

type Events = { exportReady: [userId: string, event: ExportReadyEvent] };

/** In-process notifications of finished exports; the Socket.IO gateway pushes them to the account's clients. */
@Injectable()
export class AccountEvents extends EventEmitter<Events> {}
