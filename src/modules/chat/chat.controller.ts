import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiPaymentRequiredResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiHeader,
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
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ErrorResponseDto } from '../../common/dto/error-response.dto.js';
import { ExecutionPlanDto } from '../agents/index.js';
import { ChatRunsService, parseAfterSeq } from './chat-runs.service.js';
import { ChatStreamService } from './chat-stream.service.js';
import { ChatService } from './chat.service.js';
import { ChatModelsService } from './chat-models.service.js';
import { serveSse } from './sse.js';
import {
  ChatModelListDto,
  ChatRequestDto,
  ChatResponseDto,
  ChatStreamListDto,
  ChatStreamRequestDto,
  StreamRequestIdParam,
} from './dto/chat.dto.js';

/** What parseAfterSeq takes: -1, or a seq of up to 15 digits. */
const LAST_EVENT_ID_PATTERN = '^(-1|\\d{1,15})$';

@ApiTags('chat')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('chat')
export class ChatController {
  constructor(
    private readonly chats: ChatService,
    private readonly streams: ChatStreamService,
    private readonly runs: ChatRunsService,
    private readonly models: ChatModelsService,
  ) {}

  @Get('models')
  @ApiOperation({
    summary: 'List the models you may name in ChatRequest.model',
    description:
      "The operator's LLM_MODELS_ALLOWED, the default (LLM_MODEL) first: each with its provider, its context " +
      'window when known, its price in USD per million tokens and whether your tier may choose it (free: the ' +
      "default only). Routing and plan mode always use the operator's models.",
  })
  @ApiOkResponse({ type: ChatModelListDto })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing, invalid or expired credentials' })
  listChatModels(@CurrentUser() user: AuthUser): Promise<ChatModelListDto> {
    return this.models.list(user.tier);
  }

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
    description: 'Invalid message, context, execution_mode, or a model not in GET /chat/models',
  })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: 'tier_required: your tier may use only the default model (required_tier names the tier)',
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
      'then `event: done` with `{"seq", "done": true, "response", "actions", "agent"}`, or `event: error` with ' +
      '`{"seq", "code", "message"}`; each event\'s `id:` is its seq. A `: ping` comment comes every 30 s. ' +
      'A dropped connection loses nothing: resume with GET /chat/stream/{request_id} and Last-Event-ID; a ' +
      'stream every client left runs on for CHAT_RESUME_GRACE_MS (60 s), then its model call is aborted. ' +
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
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Invalid request, execution_mode plan, or a model not in GET /chat/models',
  })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: 'tier_required: your tier may use only the default model (required_tier names the tier)',
  })
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

  @Get('stream/:request_id')
  @ApiOperation({
    summary: 'Resume a stream as Server-Sent Events',
    description:
      'The events of your stream `request_id` after the seq in Last-Event-ID (absent: from the first), on any ' +
      'instance: live while it runs, from its log once it ended (kept 5 minutes after the end), up to its ' +
      '`done` or `error` (`cancelled` when it was cancelled or nobody resumed it within the grace period). ' +
      "Each event as from POST /chat/stream, already sanitized. An unknown, expired or another account's " +
      'request_id answers 404 not_found.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The seq (the SSE id) of the last event you received; -1 or absent: from the first',
    schema: { type: 'string', pattern: LAST_EVENT_ID_PATTERN },
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'A text/event-stream of the events after Last-Event-ID',
    content: {
      'text/event-stream': {
        schema: { type: 'string', example: 'id: 7\nevent: chunk\ndata: {"seq":7,"text":"Done"}\n\n' },
      },
    },
  })
  @ApiErrors(400, 404)
  async resumeChatStream(
    @CurrentUser() user: AuthUser,
    @Param() { request_id }: StreamRequestIdParam,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const feed = await this.runs.resume(user.id, request_id, parseAfterSeq(lastEventId, 'Last-Event-ID'));
    await serveSse(req, res, (signal) => feed.follow(signal));
  }

  @Get('streams')
  @ApiOperation({
    summary: 'List your running and recently finished streams',
    description:
      'Every stream of yours running (on any instance) or finished within the last 5 minutes: its request_id, ' +
      'state and the seq of its last event, newest first. For a client that lost its state: resume each with ' +
      'GET /chat/stream/{request_id} (or Socket.IO `resume`, or a WebSocket resume frame).',
  })
  @ApiOkResponse({ type: ChatStreamListDto })
  async listChatStreams(@CurrentUser() user: AuthUser): Promise<ChatStreamListDto> {
    return { streams: await this.runs.list(user.id) };
  }
}
