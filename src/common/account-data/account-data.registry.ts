import { Global, Injectable, Module, type Provider, type Type } from '@nestjs/common';
import { AccountDataParticipant } from './account-data.js';

/**
 * Every module's AccountDataParticipant, registered at module init through
 * `provideAccountDataParticipant`; the account module walks them in erase order.
 */
@Injectable()
export class AccountDataRegistry {
  private readonly all: AccountDataParticipant[] = [];

  register(participant: AccountDataParticipant): AccountDataParticipant {
    if (this.all.some((p) => p.name === participant.name)) {
      throw new Error(`Account data participant ${participant.name} is registered twice`);
    }
    this.all.push(participant);
    return participant;
  }

  /** In erase order (name order among equals, so every instance walks them the same way). */
  participants(): AccountDataParticipant[] {
    return [...this.all].sort((a, b) => a.eraseOrder - b.eraseOrder || a.name.localeCompare(b.name));
  }
}

/** List among a module's providers: `...provideAccountDataParticipant(X)`. */
export function provideAccountDataParticipant(participant: Type<AccountDataParticipant>): Provider[] {
  return [
    participant,
    {
      provide: Symbol(`account data: ${participant.name}`),
      inject: [AccountDataRegistry, participant],
      useFactory: (registry: AccountDataRegistry, instance: AccountDataParticipant) =>
        registry.register(instance),
    },
  ];
}

/** Global: every module that holds account data registers here; the account module reads it. */
@Global()
@Module({ providers: [AccountDataRegistry], exports: [AccountDataRegistry] })
export class AccountDataModule {}
