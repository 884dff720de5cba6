import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

export interface StorageChangedEvent {
  id: string;
  table: string;
  version: number;
  op: 'upsert' | 'delete';
  /** For an attachment (`table` "attachments", `id` the attachment's): the record it belongs to. */
  record_id?: string;
}

export interface StorageQuotaEvent {
  used_bytes: number;
  quota_bytes: number;
  percent: number;
}

type Events = {
  changed: [userId: string, event: StorageChangedEvent];
  quota: [userId: string, event: StorageQuotaEvent];
};

/** In-process notifications of committed storage changes; the Socket.IO gateway pushes them to clients. */
@Injectable()
export class StorageEvents extends EventEmitter<Events> {}
