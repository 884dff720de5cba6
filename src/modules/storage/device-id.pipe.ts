import { Injectable, type PipeTransform } from '@nestjs/common';
import { DEVICE_ID } from './dto/storage.dto.js';
import { StorageException } from './storage.errors.js';

/** Device ids are the client's own: 1–100 characters of [A-Za-z0-9._:-]. Absent stays absent. */
@Injectable()
export class DeviceIdPipe implements PipeTransform<string | undefined, string | undefined> {
  transform(value: string | undefined): string | undefined {
    return checkDeviceId(value);
  }
}

export function checkDeviceId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!DEVICE_ID.test(value))
    throw new StorageException(
      'validation_failed',
      'device id must be 1-100 characters of A-Z a-z 0-9 . _ : -',
    );
  return value;
}
