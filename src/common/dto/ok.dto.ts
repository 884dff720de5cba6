import { ApiProperty } from '@nestjs/swagger';

/** `{ok: true}`: the answer of an operation that has nothing else to say. */
export class OkDto {
  @ApiProperty({ enum: [true] }) ok!: true;
}
