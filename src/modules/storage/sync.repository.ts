import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { managerOf, type Tx } from '../../database/unit-of-work.js';
import { Device } from './entities/device.entity.js';
import { StorageChange } from './entities/storage-change.entity.js';

/** A change as the feed reads it (bigints as text, as the pg driver gives them). */
export interface ChangeRow {
  seq: string;
  record_id: string;
  table_name: string;
  op: 'upsert' | 'delete';
  version: number;
  checksum: string;
  size_bytes: string;
  changed_at: Date;
}

/** The per-user changes feed and the devices that pull it. */
@Injectable()
export class SyncRepository {
  constructor(
    @InjectRepository(StorageChange) private readonly changes: Repository<StorageChange>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
  ) {}

  /** Appends a change under the usage lock, at the seq the lock handed out. */
  async appendChange(tx: Tx, change: Omit<StorageChange, 'changedAt'>): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `INSERT INTO storage_changes (user_id, seq, record_id, table_name, op, version, checksum, size_bytes, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
      [
        change.userId,
        change.seq,
        change.recordId,
        change.tableName,
        change.op,
        change.version,
        change.checksum,
        change.sizeBytes,
      ],
    );
  }

  /** Appends several changes in one statement (a batch of creates), each at its own seq from the lock. */
  async appendChanges(tx: Tx, changes: Array<Omit<StorageChange, 'changedAt'>>): Promise<void> {
    const manager = managerOf(tx);
    await manager.query(
      `INSERT INTO storage_changes (user_id, seq, record_id, table_name, op, version, checksum, size_bytes, changed_at)
       SELECT user_id, seq, record_id, table_name, op, version, checksum, size_bytes, now()
         FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::varchar[], $5::varchar[], $6::int[], $7::char(64)[], $8::bigint[])
           AS c(user_id, seq, record_id, table_name, op, version, checksum, size_bytes)`,
      [
        changes.map((c) => c.userId),
        changes.map((c) => c.seq),
        changes.map((c) => c.recordId),
        changes.map((c) => c.tableName),
        changes.map((c) => c.op),
        changes.map((c) => c.version),
        changes.map((c) => c.checksum),
        changes.map((c) => c.sizeBytes),
      ],
    );
  }

  /**
   * Up to `limit` of the user's changes after `seq`, in commit order: one
   * primary-key range scan returning the columns the wire needs as they are
   * (no entity hydration per row; a page is up to 1,001 rows, read on every
   * pull). Computing the epoch in SQL costs more than pg's date parser here
   * (numeric arithmetic per row, and slower still in the embedded engine).
   */
  async changesAfter(userId: string, seq: number, limit: number): Promise<ChangeRow[]> {
    return this.changes.query<ChangeRow[]>(
      `SELECT seq, record_id, table_name, op, version, checksum, size_bytes, changed_at
         FROM storage_changes WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [userId, seq, limit],
    );
  }

  /** Records that the device has pulled up to `seq` (a cursor never moves back). */
  async recordSync(userId: string, deviceId: string, seq: number): Promise<void> {
    await this.devices.query(
      `INSERT INTO devices (user_id, device_id, last_sync_at, cursor_seq) VALUES ($1, $2, now(), $3)
       ON CONFLICT (user_id, device_id)
       DO UPDATE SET last_sync_at = now(), cursor_seq = GREATEST(devices.cursor_seq, EXCLUDED.cursor_seq)`,
      [userId, deviceId, seq],
    );
  }

  async nameDevice(userId: string, deviceId: string, name: string): Promise<void> {
    await this.devices.query(
      `INSERT INTO devices (user_id, device_id, name) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device_id) DO UPDATE SET name = EXCLUDED.name`,
      [userId, deviceId, name],
    );
  }

  async listDevicesForOwner(userId: string): Promise<Device[]> {
    return this.devices.find({ where: { userId }, order: { createdAt: 'ASC', deviceId: 'ASC' } });
  }

  /** Whether the user already has this device, and how many devices the user has. */
  async deviceRoom(userId: string, deviceId: string): Promise<{ known: boolean; count: number }> {
    const [row] = await this.devices.query<Array<{ known: boolean | null; count: number }>>(
      'SELECT bool_or(device_id = $2) AS known, count(*)::int AS count FROM devices WHERE user_id = $1',
      [userId, deviceId],
    );
    return { known: !!row?.known, count: row?.count ?? 0 };
  }
}
