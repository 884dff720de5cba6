import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/index.js';
import { AdminController } from './admin.controller.js';
import { AdminService } from './admin.service.js';
import { OperatorRolesService } from './operator-roles.service.js';

@Module({
  imports: [AuthModule],
  controllers: [AdminController],
  providers: [AdminService, OperatorRolesService],
})
export class AdminModule {}
