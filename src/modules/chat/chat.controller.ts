import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiGatewayTimeoutResponse,
  ApiOkResponse,
  ApiOperation,
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
import { ExecutionPlanDto } from '../agents/dto/agents.dto.js';
import { ChatService } from './chat.service.js';
import { ChatRequestDto, ChatResponseDto } from './dto/chat.dto.js';

@ApiTags('chat')
@ApiBearerAuth()
@ApiSecurity('api_key')
@Controller('chat')
export class ChatController {
  constructor(private readonly chats: ChatService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'chat',
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
}
