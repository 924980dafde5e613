// Every text check, in the order they run. Loaded lazily by the text analyzer (see analyzers/text.ts).
import { kerasHydraChecks } from './keras-hydra.ts';
import { remoteCodeChecks } from './remote-code.ts';
import { secretsChecks } from './secrets.ts';
import { templatesChecks } from './templates.ts';
import type { TextCheck } from './types.ts';

export { parse as parseYaml } from 'yaml';

export const TEXT_CHECKS: readonly TextCheck[] = [...templatesChecks, ...kerasHydraChecks, ...remoteCodeChecks, ...secretsChecks];
