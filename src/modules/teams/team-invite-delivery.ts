import { Injectable, Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { AppConfig } from '../../config/app-config.js';
import type { CreatedInviteDto } from './dto/teams.dto.js';
import type { Team } from './entities/team.entity.js';

/** How long one delivery may take before it is given up (the invite stands either way). */
const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Sends a new invite to the operator's mailer when TEAM_INVITE_WEBHOOK_URL is
 * set: one signed JSON POST, after the invite is stored, never holding up the
 * inviter's answer. A failed delivery is logged (without the token) and the
 * inviter still has the accept URL to send by hand.
 */
@Injectable()
export class TeamInviteDelivery {
  private readonly logger = new Logger('Teams');

  constructor(private readonly config: AppConfig) {}

  deliver(input: { team: Team; inviterEmail: string; invite: CreatedInviteDto }): void {
    const target = this.config.teamInviteWebhook;
    if (!target) return;
    const body = JSON.stringify({
      event: 'team.invite_created',
      team: { id: input.team.id, name: input.team.name },
      inviter_email: input.inviterEmail,
      invite: {
        id: input.invite.id,
        email: input.invite.email,
        role: input.invite.role,
        expires_at: input.invite.expires_at,
        accept_url: input.invite.accept_url,
      },
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', target.secret).update(`${timestamp}.${body}`).digest('hex');
    fetch(target.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Adiuva-Signature': `t=${timestamp},v1=${signature}` },
      body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    }).then(
      (res) => {
        if (!res.ok)
          this.logger.warn(`Team invite ${input.invite.id}: the invite webhook answered ${res.status}`);
      },
      (err: unknown) =>
        this.logger.warn(
          `Team invite ${input.invite.id}: the invite webhook failed: ${(err as Error).message}`,
        ),
    );
  }
}
