import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';

/**
 * An AbortSignal that fires when the client goes away before the response is
 * sent, so work done on its behalf (a model call) stops with it. (`req.destroyed`
 * says nothing here: a request is destroyed as soon as its body has been read.)
 */
export const RequestSignal = createParamDecorator((_data: unknown, ctx: ExecutionContext): AbortSignal => {
  const req = ctx.switchToHttp().getRequest<Request>();
  const res = ctx.switchToHttp().getResponse<Response>();
  const controller = new AbortController();
  const gone = () => controller.abort(new Error('client closed the connection'));
  if (req.socket.destroyed) gone();
  else {
    res.once('close', () => {
      if (!res.writableFinished) gone();
    });
  }
  return controller.signal;
});
