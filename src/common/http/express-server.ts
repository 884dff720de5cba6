import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';

/** Node's own request and response constructors, called on an object another constructor built. */
type ConstructorBody = (this: object, first: unknown, second: unknown) => void;

/**
 * Express adapter whose HTTP server builds every request and response on
 * Express's prototypes (`app.request`, `app.response`) in the first place.
 *
 * Express gives each request and response those prototypes with
 * `Object.setPrototypeOf` as it starts handling them, and V8 handles that
 * call on a live object slowly: measured here on a bare `node:http` server,
 * it more than doubles the CPU per request and keeps each request's garbage
 * alive through young-generation collections (a fifth of the young
 * generation survived each one instead of almost nothing). With the
 * prototype already in place, Express's call changes nothing and costs
 * nothing; every route, Socket.IO's and the plain WebSocket's upgrade
 * requests included, behaves as before.
 *
 * The options this server does not handle (HTTPS, Nest's own connection
 * tracking and 503-while-closing) keep Nest's server.
 */
export class AppExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions || options.forceCloseConnections || options.return503OnClosing) {
      super.initHttpServer(options);
      return;
    }
    this.httpServer = createPrototypedServer(this.getInstance<Express>());
  }
}

/** A node:http server for `app` whose requests and responses are born with Express's prototypes. */
export function createPrototypedServer(app: Express): Server {
  return createServer(
    {
      IncomingMessage: bornWith(IncomingMessage, app.request),
      ServerResponse: bornWith(ServerResponse, app.response),
    },
    app,
  );
}

/**
 * A constructor that runs `base` (Node's constructor function, which Node's
 * own subclasses call the same way) on an object whose prototype is
 * `prototype`. Should a Node version make `base` a class, which cannot be
 * called so, `base` itself is returned and Express sets the prototype as
 * it does by default.
 */
function bornWith<T extends typeof IncomingMessage | typeof ServerResponse>(base: T, prototype: object): T {
  if (Function.prototype.toString.call(base).startsWith('class')) return base;
  const body = base as unknown as ConstructorBody;
  // Two parameters, as Node passes: (socket) for a request, (request, options) for a response.
  function Prototyped(this: object, first: unknown, second: unknown): void {
    body.call(this, first, second);
  }
  Prototyped.prototype = prototype;
  return Prototyped as unknown as T;
}
