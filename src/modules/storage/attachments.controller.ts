import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { AuthUser } from '../../common/auth/auth-user.js';
import { ApiErrors } from '../../common/decorators/api-errors.decorator.js';
import { ApiUuidParam } from '../../common/decorators/api-uuid-param.decorator.js';
import { CurrentUser } from '../../common/decorators/current-user.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { OkDto } from '../../common/dto/ok.dto.js';
import { StreamedBody } from '../../common/http/body-limit.decorator.js';
import { UuidPipe } from '../../common/input/uuid.pipe.js';
import { AttachmentsService } from './attachments.service.js';
import {
  AttachmentDownloadDto,
  AttachmentDto,
  AttachmentLinkQueryDto,
  AttachmentListDto,
  AttachmentUploadDto,
  CompleteAttachmentDto,
  CreateAttachmentDto,
} from './dto/attachment.dto.js';

const BINARY = { type: 'string', format: 'binary' } as const;

@ApiTags('storage')
@Controller('storage')
export class AttachmentsController {
  constructor(private readonly attachments: AttachmentsService) {}

  @Post('attachments')
  @ApiOperation({
    summary:
      'Start an attachment upload: the size is reserved in the quota, the answer says where to PUT the bytes',
    description:
      'A large encrypted file of a live record, sent straight to the blob store: `upload` is one PUT of the ' +
      'whole file, or (above ATTACHMENT_MULTIPART_BYTES) `parts` are PUTs of each part, which may be sent ' +
      'again after a cut. Send the headers given. Then POST /storage/attachments/{id}/complete before expires_at.',
  })
  @ApiCreatedResponse({ type: AttachmentUploadDto })
  @ApiErrors(
    { status: 400, description: 'Invalid input, or too many unfinished uploads (code limit_reached)' },
    {
      status: 402,
      description: 'The reservation would pass the storage quota, or the tier has no cloud storage',
    },
    { status: 404, description: 'No such live record of yours' },
    { status: 413, description: 'Over ATTACHMENT_MAX_BYTES or the tier’s quota' },
  )
  createAttachment(
    @CurrentUser() user: AuthUser,
    @Body() dto: CreateAttachmentDto,
  ): Promise<AttachmentUploadDto> {
    return this.attachments.create(user, dto);
  }

  @Post('attachments/:id/complete')
  @HttpCode(200)
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Finish an attachment upload: size and SHA-256 checked against what the store holds',
    description:
      'For an upload in parts, list every part with the ETag its PUT answered. On success the reservation ' +
      'becomes usage and other devices get storage:changed. Wrong bytes: 400 checksum_mismatch, and the ' +
      'attachment is gone with its reservation. Missing parts: 400 upload_incomplete, the upload stays open.',
  })
  @ApiOkResponse({ type: AttachmentDto })
  @ApiErrors(400, 404, { status: 403, description: 'The upload deadline passed (code link_expired)' })
  completeAttachment(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
    @Body() dto: CompleteAttachmentDto,
  ): Promise<AttachmentDto> {
    return this.attachments.complete(user, id, dto);
  }

  @Get('attachments/:id')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'An attachment with a download URL valid five minutes (Range supported)',
    description: 'Check the SHA-256 of the bytes against sha256 before decrypting.',
  })
  @ApiOkResponse({ type: AttachmentDownloadDto })
  @ApiErrors(404, { status: 400, description: 'Still uploading (code upload_incomplete)' })
  getAttachment(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
  ): Promise<AttachmentDownloadDto> {
    return this.attachments.download(user, id);
  }

  @Get('records/:id/attachments')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'The attachments of a record (uploading and complete), oldest first',
    description: 'Metadata only; GET /storage/attachments/{id} gives a complete one’s download URL.',
  })
  @ApiOkResponse({ type: AttachmentListDto })
  @ApiErrors(404)
  async listRecordAttachments(
    @CurrentUser() user: AuthUser,
    @Param('id', UuidPipe) id: string,
  ): Promise<AttachmentListDto> {
    return { attachments: await this.attachments.listForRecord(user, id) };
  }

  @Delete('attachments/:id')
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Delete an attachment (or abandon its upload); frees its quota at once',
    description:
      'Its bytes (or the parts uploaded so far) are removed from the store; other devices get storage:changed.',
  })
  @ApiOkResponse({ type: OkDto })
  @ApiErrors(404)
  async deleteAttachment(@CurrentUser() user: AuthUser, @Param('id', UuidPipe) id: string): Promise<OkDto> {
    await this.attachments.remove(user, id);
    return { ok: true };
  }

  @Put('attachments/:id/upload')
  @Public()
  @StreamedBody()
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Upload an attachment’s bytes through a signed link (files driver)',
    description:
      'The url of an upload or a part, as POST /storage/attachments gave it: no credentials, the link is the ' +
      'authorization, until expires_at. The body is the whole part (or file), or the bytes Content-Range names ' +
      'within it, written at their place (resume a cut upload from the last byte acknowledged). A PUT of the ' +
      'whole file is hashed on the way: wrong bytes → 400 checksum_mismatch and the attachment is gone.',
  })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ required: true, description: 'The encrypted bytes', schema: BINARY })
  @ApiHeader({
    name: 'Content-Range',
    required: false,
    description: 'bytes first-last/total, total being the part’s (or file’s) size',
    schema: { type: 'string', pattern: '^bytes \\d+-\\d+/\\d+$' },
  })
  @ApiOkResponse({
    type: OkDto,
    headers: { ETag: { description: 'Send it back with the part at complete', schema: { type: 'string' } } },
  })
  @ApiErrors(400, 404, { status: 403, description: 'Expired (link_expired) or altered (link_invalid) link' })
  async uploadAttachmentContent(
    @Param('id', UuidPipe) id: string,
    @Query() link: AttachmentLinkQueryDto,
    @Req() req: Request,
    @Headers('content-range') contentRange: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OkDto> {
    const contentLength = req.headers['content-length'];
    const { etag } = await this.attachments.receive(id, link, req, { contentLength, contentRange });
    res.setHeader('ETag', etag);
    return { ok: true };
  }

  @Get('attachments/:id/download')
  @Public()
  @ApiUuidParam()
  @ApiOperation({
    summary: 'Download an attachment through a signed link (files driver)',
    description:
      'The download_url of GET /storage/attachments/{id}: no credentials, five minutes. Range → 206.',
  })
  @ApiProduces('application/octet-stream')
  @ApiHeader({
    name: 'Range',
    required: false,
    description: 'One byte range, e.g. bytes=1048576-',
    schema: { type: 'string', pattern: '^bytes=(\\d*)-(\\d*)$' },
  })
  @ApiOkResponse({ description: 'The encrypted bytes', schema: BINARY })
  @ApiResponse({
    status: 206,
    description: 'The requested range',
    content: { 'application/octet-stream': { schema: BINARY } },
    headers: { 'Content-Range': { description: 'bytes first-last/size', schema: { type: 'string' } } },
  })
  @ApiErrors(400, 404, { status: 403, description: 'Expired or altered link' }, 416)
  async downloadAttachmentContent(
    @Param('id', UuidPipe) id: string,
    @Query() link: AttachmentLinkQueryDto,
    @Headers('range') range: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const file = await this.attachments.open(id, link, range);
    res.status(file.range ? 206 : 200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('X-Checksum', file.sha256);
    res.setHeader('Cache-Control', 'private, no-store');
    const length = file.range ? file.range.end - file.range.start + 1 : file.blob.size;
    res.setHeader('Content-Length', String(length));
    if (file.range)
      res.setHeader('Content-Range', `bytes ${file.range.start}-${file.range.end}/${file.blob.size}`);
    await pipeline(file.blob.stream, res).catch(() => undefined);
  }
}
