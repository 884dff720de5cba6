import { applyDecorators, Get, HttpCode, Post, Redirect } from '@nestjs/common';
import { ApiOperation, ApiQuery } from '@nestjs/swagger';
import { AuthRateLimit } from '../../common/decorators/access.decorators.js';
import { ApiErrors, type ApiErrorSpec } from '../../common/decorators/api-errors.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { BodyLimit } from '../../common/http/body-limit.decorator.js';

/*
 * The four routes every way of signing in through a third party has (a team's OpenID Connect
 * provider, GitHub): start, the provider's callback, exchange of the one-time code, link of an
 * existing password account. Each is public and under the sign-in rate limit; the texts and the
 * extra errors are the provider's. The success response (@ApiOkResponse, @ApiFoundResponse) stays
 * on the handler: the Swagger build plugin sees only the decorators written there, and adds a
 * success response of its own to a handler that shows none.
 */

/** Sign-in bodies are a code, an email, a redirect URI or a password: small, read before any credentials. */
export const SIGN_IN_BODY_LIMIT = '16kb';

/** What the OpenAPI operation says of a route. */
export interface SignInRouteTexts {
  summary: string;
  description: string;
}

/** The redirect the callback answers, for `@ApiFoundResponse` on the handler. */
export const SIGN_IN_REDIRECT_RESPONSE = {
  description: "To the client's redirect_uri with ?code= or ?error=&error_description=",
  headers: {
    Location: {
      description: "The client's redirect_uri with its code or error",
      schema: { type: 'string' },
    },
  },
};

const CODE_INVALID: ApiErrorSpec = {
  status: 400,
  description: 'Unknown, used or expired code (code sso_code_invalid)',
};

/** A public, rate-limited POST of a small JSON body answering 200. */
function signInPost(path: string) {
  return [Public(), AuthRateLimit(), Post(path), BodyLimit(SIGN_IN_BODY_LIMIT), HttpCode(200)];
}

/** POST …/start: the authorization URL to open in a browser. */
export function SignInStartRoute(texts: SignInRouteTexts, ...errors: ApiErrorSpec[]) {
  return applyDecorators(
    ...signInPost('start'),
    ApiOperation(texts),
    ApiErrors(
      {
        status: 400,
        description: 'Invalid body, or the redirect_uri is not allowed (code redirect_uri_not_allowed)',
      },
      ...errors,
    ),
  );
}

/** GET …/callback: the provider's redirect back, answered with a redirect to the client. */
export function SignInCallbackRoute(texts: SignInRouteTexts & { code: string }, ...errors: ApiErrorSpec[]) {
  return applyDecorators(
    Public(),
    AuthRateLimit(),
    Get('callback'),
    Redirect(),
    // In the order the document has always listed them: state, then code.
    ApiQuery({ name: 'state', required: true, description: 'The state of the sign-in' }),
    ApiQuery({ name: 'code', required: false, description: texts.code }),
    ApiOperation({ summary: texts.summary, description: texts.description }),
    ApiErrors(
      { status: 400, description: 'The state is unknown, altered, used or expired (code sso_state_invalid)' },
      ...errors,
    ),
  );
}

/** POST …/exchange: the one-time code from the redirect traded for AuthTokens. */
export function SignInExchangeRoute(description: string) {
  return applyDecorators(
    ...signInPost('exchange'),
    ApiOperation({
      summary: 'Trade the one-time code from the redirect for AuthTokens (as /auth/login)',
      description,
    }),
    ApiErrors(
      CODE_INVALID,
      { status: 403, description: 'The account is disabled (code forbidden)' },
      { status: 409, description: 'The account must be linked with its password first (code link_required)' },
    ),
  );
}

/** POST …/link: an existing password account linked with its password, and signed in. */
export function SignInLinkRoute(texts: SignInRouteTexts, ...errors: ApiErrorSpec[]) {
  return applyDecorators(...signInPost('link'), ApiOperation(texts), ApiErrors(CODE_INVALID, ...errors));
}
