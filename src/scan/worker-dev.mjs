// Development-only worker bootstrap: lets worker threads run the TypeScript sources (tests, tsx).
// Built code uses dist/worker.js instead.
import { register } from 'tsx/esm/api';
register();
await import('./worker.ts');
