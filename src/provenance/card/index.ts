// The card room's door: runtime facts of a model folder, each with the file and key it came from.
export { extractCard, parseFrontMatter, CARD_LIMITS } from './extract.ts';
export { estimateParameters } from './estimate.ts';
export { renderCardText } from './render.ts';
export type * from './model.ts';
