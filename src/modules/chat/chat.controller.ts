import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiPaymentRequiredResponse,
  ApiExtraModels,
  ApiGatewayTimeoutResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { RequestSignal } from '../../common/decorators/request-signal.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { ExecutionPlanDto } from '../agents/index.js';
import { ChatRunsService } from './chat-runs.service.js';
import { ChatStreamService } from './chat-stream.service.js';
import { ChatService } from './chat.service.js';
import { serveSse } from './sse.js';
import { ChatRequestDto, ChatResponseDto, ChatStreamRequestDto } from './dto/chat.dto.js';

@ApiTags('chat')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('chat')
export class ChatController {
  constructor(
    private readonly chats: ChatService,
    private readonly streams: ChatStreamService,
    private readonly runs: ChatRunsService,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a message to the agents',
    description:
      'One router call picks the agent (or a pipeline of agents) the tier allows; direct mode runs it and ' +
      'answers ChatResponse, plan mode answers an ExecutionPlan of template ids. Nothing is stored or logged.',
  })
  @ApiExtraModels(ChatResponseDto, ExecutionPlanDto)
  @ApiOkResponse({
    description: 'ChatResponse (execution_mode direct) or ExecutionPlan (plan)',
    schema: { oneOf: [{ $ref: getSchemaPath(ChatResponseDto) }, { $ref: getSchemaPath(ExecutionPlanDto) }] },
  })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Invalid message, context or execution_mode',
  })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing, invalid or expired credentials' })
  @ApiTooManyRequestsResponse({ type: ErrorResponseDto, description: 'Rate limited; see Retry-After' })
  @ApiBadGatewayResponse({
    type: ErrorResponseDto,
    description: 'provider_unavailable: the model provider failed after retries',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'feature_not_configured: no model endpoint (OPENAI_API_KEY / OPENAI_BASE_URL) is set',
  })
  @ApiGatewayTimeoutResponse({
    type: ErrorResponseDto,
    description: 'provider_timeout: a model call took longer than LLM_TIMEOUT_MS',
  })
  chat(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChatRequestDto,
    @RequestSignal() signal: AbortSignal,
  ): Promise<ChatResponseDto | ExecutionPlanDto> {
    return this.chats.chat(user, dto, signal);
  }

  @Post('stream')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a message and receive the answer as Server-Sent Events',
    description:
      'The answer token by token as the model produces it: `event: chunk` with `{"seq", "text"}` (seq from 0), ' +
      'then `event: done` with `{"done": true, "response", "actions", "agent"}`, or `event: error` with ' +
      '`{"code", "message"}`. A `: ping` comment comes every 30 s. Closing the connection aborts the model call. ' +
      'Every chunk passes the sanitizer. Plan mode is not streamed (use POST /chat). A request naming the ' +
      'request_id of a stream still running for you follows that stream from its first chunk (one model ' +
      'call). Each tier runs a limited number of streams at once (free 1, pro 3, power 5, team 10); one more ' +
      'is refused with 429 rate_limited. Errors before the stream starts (validation, credentials, rate ' +
      'limit, stream cap, not configured) are plain JSON errors.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'A text/event-stream of chunk events, then done or error',
    content: {
      'text/event-stream': {
        schema: { type: 'string', example: 'event: chunk\ndata: {"seq":0,"text":"Done"}\n\n' },
      },
    },
  })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid request, or execution_mode plan' })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing, invalid or expired credentials' })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    description: "Rate limited, or the tier's number of concurrent streams reached; see Retry-After",
  })
  @ApiPaymentRequiredResponse({
    type: ErrorResponseDto,
    description: "spend_limit_reached: today's model budget is spent (resets_at: the next UTC midnight)",
  })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'duplicate: the request_id is streaming on another instance',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'feature_not_configured: no model endpoint (OPENAI_API_KEY / OPENAI_BASE_URL) is set',
  })
  async chatStream(
    @CurrentUser() user: AuthUser,
    @Body() dto: ChatStreamRequestDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.streams.assertCanStream(user, dto);
    const run = await this.runs.start(user, dto);
    await serveSse(req, res, (signal) => run.follow(signal));
  }
}
