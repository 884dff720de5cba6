import { Injectable, type Provider, type Type } from '@nestjs/common';
import { AuthException } from './auth.errors.js';

/**
 * A rule that keeps an account off its password: a team that requires single sign-on for its
 * email domains. The module that knows the rule (sso) depends on auth, so auth cannot ask it
 * directly; it provides an implementation of this port instead (`provideSsoRequirement`), and
 * password sign-in and new API keys consult every one registered.
 */
export abstract class SsoRequirement {
  /** Whether the account with this (normalised) email must sign in through its team's identity provider. */
  abstract requiresSso(email: string): Promise<boolean>;
}

/** What the refusal names: the credential the account may not use. */
export type PasswordCredential = 'password sign-in' | 'new API keys';

/** The registered SsoRequirements; none registered: passwords and API keys are always allowed. */
@Injectable()
export class SignInPolicies {
  private readonly rules: SsoRequirement[] = [];

  /** Adds a rule; answers a function that takes it back. */
  register(rule: SsoRequirement): () => void {
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  /** Throws 403 `sso_required` when a rule says the account signs in through single sign-on only. */
  async assertPasswordAllowed(email: string, credential: PasswordCredential): Promise<void> {
    for (const rule of this.rules) {
      if (await rule.requiresSso(email)) {
        throw new AuthException(
          'sso_required',
          `Your team requires single sign-on for this email domain: ${credential} is off. ` +
            'Sign in with POST /auth/sso/start {email, redirect_uri}.',
        );
      }
    }
  }
}

/**
 * The providers that register a module's SsoRequirement with auth: the class and its
 * registration. List them among the module's providers: `...provideSsoRequirement(X)`.
 */
export function provideSsoRequirement(rule: Type<SsoRequirement>): Provider[] {
  return [
    rule,
    {
      provide: Symbol(`sso requirement: ${rule.name}`),
      inject: [SignInPolicies, rule],
      useFactory: (policies: SignInPolicies, registered: SsoRequirement) => policies.register(registered),
    },
  ];
}
