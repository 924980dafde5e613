import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';

interface SbomFlags {
  format: 'cyclonedx';
  spec: '1.6';
  output?: string;
  jobs?: string;
}

const HELP_AFTER = `
The BOM holds one machine-learning-model component with:
  modelCard      task, architecture family, datasets, evaluation results, context/quantization/remote-code
                 limitations, and the card facts as modelgate:* properties (see \`modelgate card\`)
  licenses       from the license review of the folder (card front matter and LICENSE texts matched
                 against the knowledge base; see \`modelgate license\`), else the card's license field
  pedigree       ancestors from base_model
  properties     the scan verdict (modelgate:scan:*) and the format inventory (modelgate:format:*)
  components     one file component per file, with SHA-256, format, scan status and worst severity
Timestamps honour SOURCE_DATE_EPOCH. Nothing is loaded or run; findings do not change the exit code
(gate on them with \`modelgate scan\`).

Exit codes:
  0  BOM written
  2  usage error, or the path cannot be read

Examples:
  modelgate sbom ./Meta-Llama-3-8B-Instruct/ -o llama3.cdx.json
  modelgate sbom model.gguf | jq '.components[0].modelCard'`;

export function registerSbom(program: Command): void {
  program
    .command('sbom')
    .description('Write a CycloneDX 1.6 ML-BOM of a model: model card, file hashes, license, lineage, scan facts')
    .argument('<path>', 'a model folder (Hugging Face layout) or one model file')
    .addOption(new Option('--format <format>', 'BOM format').choices(['cyclonedx']).default('cyclonedx'))
    .addOption(new Option('--spec <version>', 'CycloneDX specification version').choices(['1.6']).default('1.6'))
    .option('-o, --output <file>', 'write the BOM to a file instead of stdout')
    .option('--jobs <n>', 'worker threads for the scan (default 1)')
    .addHelpText('after', HELP_AFTER)
    .action(async (path: string, flags: SbomFlags) => {
      const jobs = flags.jobs === undefined ? 1 : Number(flags.jobs);
      if (!Number.isSafeInteger(jobs) || jobs < 1) throw new ModelgateError('USAGE', `--jobs takes a positive whole number, not "${flags.jobs}"`);
      // Loaded on use: the CycloneDX library adds ~50 ms to start-up.
      const { buildSbom } = await import('../provenance/sbom/index.ts');
      const { json, bom } = await buildSbom(path, { jobs });
      if (flags.output !== undefined) {
        writeFileSync(flags.output, json);
        const files = bom.components?.[0]?.components?.length ?? 0;
        process.stderr.write(`modelgate: CycloneDX ${flags.spec} ML-BOM with ${files} files written to ${flags.output}\n`);
      } else process.stdout.write(json);
    });
}
