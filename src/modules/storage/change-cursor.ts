import { createHmac } from 'node:crypto';

/**
 * Changes-feed cursors: `<seq>.<mac>`, the MAC binding the seq to its user, so
 * a cursor of another user, or a forged or edited one, does not verify.
 */
export class ChangeCursor {
  constructor(private readonly secret: string) {}

  sign(userId: string, seq: number): string {
    const mac = createHmac('sha256', this.secret).update(`cursor:${userId}:${seq}`).digest('base64url');
    return `${seq}.${mac.slice(0, 22)}`;
  }

  /** The seq of a cursor of `userId`; 0 for none; null when it does not verify. */
  verify(userId: string, cursor: string | undefined): number | null {
    if (!cursor) return 0;
    const match = /^(\d{1,18})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
    if (!match) return null;
    const seq = Number(match[1]);
    return this.sign(userId, seq) === cursor ? seq : null;
  }
}
