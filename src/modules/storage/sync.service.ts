import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { AppConfig } from '../../config/app-config.js';
import { ChangeCursor } from './change-cursor.js';
import type { ChangeDto, ChangesPageDto, DeviceInfoDto } from './dto/storage.dto.js';
import { mapDevice } from './dto/storage.dto.js';
import { StorageException } from './storage.errors.js';
import { type ChangeRow, SyncRepository } from './sync.repository.js';

/** Devices a user may register. */
const MAX_DEVICES = 100;

/** The changes feed for multi-device sync, and the devices that pull it. */
@Injectable()
export class SyncService {
  private readonly cursors: ChangeCursor;

  constructor(
    private readonly sync: SyncRepository,
    config: AppConfig,
  ) {
    this.cursors = new ChangeCursor(config.jwt.secret);
  }

  /**
   * The user's changes after `cursor`, in commit order. A device that pulls
   * until has_more is false has seen every change exactly once.
   */
  async changes(
    user: AuthUser,
    cursor: string | undefined,
    limit: number,
    deviceId?: string,
  ): Promise<ChangesPageDto> {
    const after = this.cursors.verify(user.id, cursor);
    if (after === null) {
      throw new StorageException(
        'invalid_cursor',
        'Invalid cursor: use next_cursor from a previous page of your own feed',
      );
    }
    const rows = await this.sync.changesAfter(user.id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.length ? Number(page[page.length - 1].seq) : after;
    if (deviceId) {
      await this.assertDeviceRoom(user.id, deviceId);
      await this.sync.recordSync(user.id, deviceId, last);
    }
    return {
      changes: page.map(toWire),
      next_cursor: this.cursors.sign(user.id, last),
      has_more: rows.length > limit,
    };
  }

  async putDevice(user: AuthUser, deviceId: string, name: string): Promise<DeviceInfoDto> {
    await this.assertDeviceRoom(user.id, deviceId);
    await this.sync.nameDevice(user.id, deviceId, name);
    return (await this.devices(user)).find((device) => device.device_id === deviceId)!;
  }

  async devices(user: AuthUser): Promise<DeviceInfoDto[]> {
    const devices = await this.sync.listDevicesForOwner(user.id);
    return devices.map((device) => mapDevice(device, this.cursors.sign(user.id, Number(device.cursorSeq))));
  }

  /** A new device id is refused past MAX_DEVICES, so a client cannot grow the table without bound. */
  private async assertDeviceRoom(userId: string, deviceId: string): Promise<void> {
    const room = await this.sync.deviceRoom(userId, deviceId);
    if (!room.known && room.count >= MAX_DEVICES) {
      throw new StorageException('limit_reached', `At most ${MAX_DEVICES} devices per account`);
    }
  }
}

/** A feed row as sent (the cursor carries its seq). */
function toWire(row: ChangeRow): ChangeDto {
  return {
    id: row.record_id,
    table: row.table_name,
    op: row.op,
    version: row.version,
    checksum: row.checksum,
    size_bytes: Number(row.size_bytes),
    updated_at: row.changed_at.getTime(),
  };
}
