/** What the marketplace module offers the rest of the app; nothing else of it is imported from outside. */
export { MarketplaceModule } from './marketplace.module.js';
