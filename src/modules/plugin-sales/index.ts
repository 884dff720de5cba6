/** What plugin sales offer the rest of the app; nothing else of it is imported from outside. */
export { PluginSalesModule } from './plugin-sales.module.js';
export { type PluginForSale, PurchasesService } from './purchases.service.js';
export { PaymentRequiredErrorDto } from './dto/sales.dto.js';
