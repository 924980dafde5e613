// The parts of a CycloneDX 1.6 JSON document this module writes or reads (a subset of bom-1.6.schema.json).

export interface CdxProperty {
  name: string;
  value: string;
}

export interface CdxComponentJson {
  type: string;
  name: string;
  'bom-ref'?: string;
  version?: string;
  purl?: string;
  hashes?: Array<{ alg: string; content: string }>;
  licenses?: Array<{ license?: { id?: string; name?: string; url?: string }; expression?: string }>;
  properties?: CdxProperty[];
  components?: CdxComponentJson[];
  modelCard?: CdxModelCard;
  pedigree?: { ancestors?: CdxComponentJson[] };
}

export interface CdxModelCard {
  'bom-ref'?: string;
  modelParameters?: {
    approach?: { type: 'supervised' | 'unsupervised' | 'reinforcement-learning' | 'semi-supervised' | 'self-supervised' };
    task?: string;
    architectureFamily?: string;
    modelArchitecture?: string;
    datasets?: Array<{ type: 'dataset'; name: string } | { ref: string }>;
    inputs?: Array<{ format: string }>;
    outputs?: Array<{ format: string }>;
  };
  quantitativeAnalysis?: {
    performanceMetrics?: Array<{ type?: string; value?: string; slice?: string }>;
  };
  considerations?: {
    technicalLimitations?: string[];
  };
  properties?: CdxProperty[];
}

export interface MlBom {
  $schema?: string;
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber?: string;
  version: number;
  metadata?: {
    timestamp?: string;
    tools?: { components?: CdxComponentJson[] };
  };
  components?: CdxComponentJson[];
  dependencies?: Array<{ ref: string; dependsOn?: string[] }>;
}
