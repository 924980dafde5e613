// Model licenses: terms read from the texts in test/fixtures/licenses (clauses cited per rule), plus a
// few licenses known only from research notes (verified: false — never approved on their own).
import type { Clause, KbEntry, Obligation } from '../types.ts';

type Ob = Omit<Obligation, 'license'>;
const c = (section: string, quote: string): Clause => ({ section, quote });

const LLAMA_THRESHOLD = (v: string) => ({
  monthlyActiveUsers: 700_000_000,
  appliesTo: ['commercial', 'internal', 'research'] as const,
  clause: c('§2 Additional Commercial Terms', `If, on the ${v} version release date, the monthly active users … is greater than 700 million monthly active users in the preceding calendar month, you must request a license from Meta`),
});

function llamaObligations(opts: { version: string; notice: string; copyQuote?: string; builtWith?: string; prefix?: string; outputsToo?: boolean; improveOther?: boolean; eu?: boolean; aupSection?: string }): Ob[] {
  const list: Ob[] = [
    { kind: 'redistribution', text: 'Give a copy of the license agreement with any Llama Materials (or derivatives) you distribute or make available', clause: c('§1.b.i', opts.copyQuote ?? 'provide a copy of this Agreement with any such Llama Materials') },
    { kind: 'attribution', text: `Keep this notice in a "Notice" text file in every copy distributed: "${opts.notice}"`, clause: c('§1.b.iii', opts.notice) },
    { kind: 'acceptable-use', text: `Use must comply with laws and the ${opts.version} Acceptable Use Policy (incorporated by reference; Meta may update it)`, clause: c('§1.b.iv', 'adhere to the Acceptable Use Policy for the Llama Materials') },
    { kind: 'user-threshold', text: 'Above 700 million monthly active users (on the release date, organisation and affiliates) a separate license from Meta is required', clause: LLAMA_THRESHOLD(opts.version).clause },
    { kind: 'governing-law', text: 'California law; courts of California', clause: c('§7', 'governed and construed under the laws of the State of California') },
  ];
  if (opts.builtWith) list.push({ kind: 'attribution', text: `Prominently display "${opts.builtWith}" on a related website, user interface, blog post, about page or product documentation when distributing or making available the materials or a product that contains them`, clause: c('§1.b.i', `prominently display “${opts.builtWith}”`) });
  if (opts.prefix) list.push({ kind: 'naming', text: `A distributed AI model created, trained or fine-tuned with the Llama Materials${opts.outputsToo ? ' or their outputs' : ''} must have a name beginning with "${opts.prefix}"`, clause: c('§1.b.i', `include “${opts.prefix}” at the beginning of any such AI model name`) });
  if (opts.improveOther) list.push({ kind: 'outputs', text: `Do not use the Llama Materials or their outputs to improve any other large language model (excluding ${opts.version} and its derivatives)`, clause: c('§1.b.v', 'You will not use the Llama Materials or any output or results of the Llama Materials to improve any other large language model') });
  if (opts.eu) list.push({ kind: 'geography', text: 'For multimodal models, the §1(a) rights are not granted to individuals domiciled in, or companies with a principal place of business in, the European Union (end users of a product that incorporates them are exempt)', clause: c(`${opts.version} Acceptable Use Policy`, 'With respect to any multimodal models included in … the rights granted under Section 1(a) … are not being granted to you if you are … in the European Union') });
  return list;
}

const llama = (id: string, version: string, textFile: string, aupFile: string, url: string, ob: Parameters<typeof llamaObligations>[0], note?: string): KbEntry => ({
  id,
  spdx: `LicenseRef-${id}`,
  name: `${version} Community License Agreement`,
  category: 'model-community',
  hubIds: [id],
  licenseNames: [id, `${id}-community-license`],
  textFile,
  commercialUse: true,
  researchOnly: false,
  threshold: LLAMA_THRESHOLD(version),
  acceptableUse: { url, textFile: aupFile, mutable: true, clause: c('§1.b.iv', `adhere to the Acceptable Use Policy for the Llama Materials (available at ${url})`) },
  obligations: llamaObligations(ob),
  verified: true,
  note,
  source: `meta-llama/llama-models models/${textFile.replace('.txt', '').replace('.', '_')}/LICENSE`,
});

const RAIL_ATTACHMENT_A_COMMON = 'no use that violates law; exploits or harms minors; generates verifiably false information to harm others; disseminates PII to harm; defames or harasses; fully automated decisions that adversely affect legal rights; discrimination; exploiting vulnerabilities of groups';

function railObligations(section: string, fields: string, remote: string): Ob[] {
  return [
    { kind: 'field-of-use', text: `Use-based restrictions of Attachment A apply to the model and its derivatives: ${fields}`, clause: c(`${section}5 and Attachment A`, 'You cannot use the Model and the Derivatives of the Model for the specified restricted uses') },
    { kind: 'pass-through', text: 'Include the Attachment A use-based restrictions as an enforceable provision in any agreement governing use or distribution (incl. hosted services) and notify downstream users', clause: c(`${section}4.a`, 'Use-based restrictions as referenced in paragraph 5 MUST be included as an enforceable provision') },
    { kind: 'redistribution', text: 'Give third-party recipients a copy of the license; mark modified files; retain copyright, patent, trademark and attribution notices', clause: c(`${section}4.b–d`, 'You must give any Third Party recipients of the Model or Derivatives of the Model a copy of this License') },
    { kind: 'remote-restriction', text: remote, clause: c('§7 Updates and Runtime Restrictions', 'reserves the right to restrict (remotely or otherwise) usage of the Model in violation of this License') },
  ];
}

export const MODEL_LICENSES: readonly KbEntry[] = [
  llama('llama2', 'Llama 2', 'llama2.txt', 'llama2-use-policy.md', 'https://ai.meta.com/llama/use-policy', {
    version: 'Llama 2',
    notice: 'Llama 2 is licensed under the LLAMA 2 Community License, Copyright (c) Meta Platforms, Inc. All Rights Reserved.',
    copyQuote: 'you shall provide a copy of this Agreement to such third party',
    improveOther: true,
  }),
  llama('llama3', 'Meta Llama 3', 'llama3.txt', 'llama3-use-policy.md', 'https://llama.meta.com/llama3/use-policy', {
    version: 'Meta Llama 3',
    notice: 'Meta Llama 3 is licensed under the Meta Llama 3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    builtWith: 'Built with Meta Llama 3',
    prefix: 'Llama 3',
    improveOther: true,
  }),
  llama('llama3.1', 'Llama 3.1', 'llama3.1.txt', 'llama3.1-use-policy.md', 'https://llama.meta.com/llama3_1/use-policy', {
    version: 'Llama 3.1',
    notice: 'Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    builtWith: 'Built with Llama',
    prefix: 'Llama',
    outputsToo: true,
  }),
  llama('llama3.2', 'Llama 3.2', 'llama3.2.txt', 'llama3.2-use-policy.md', 'https://www.llama.com/llama3_2/use-policy', {
    version: 'Llama 3.2',
    notice: 'Llama 3.2 is licensed under the Llama 3.2 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    builtWith: 'Built with Llama',
    prefix: 'Llama',
    outputsToo: true,
    eu: true,
  }),
  llama('llama3.3', 'Llama 3.3', 'llama3.3.txt', 'llama3.3-use-policy.md', 'https://www.llama.com/llama3_3/use-policy', {
    version: 'Llama 3.3',
    notice: 'Llama 3.3 is licensed under the Llama 3.3 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    builtWith: 'Built with Llama',
    prefix: 'Llama',
    outputsToo: true,
    eu: true,
  }),
  llama('llama4', 'Llama 4', 'llama4.txt', 'llama4-use-policy.md', 'https://www.llama.com/llama4/use-policy', {
    version: 'Llama 4',
    notice: 'Llama 4 is licensed under the Llama 4 Community License, Copyright © Meta Platforms, Inc. All Rights Reserved.',
    builtWith: 'Built with Llama',
    prefix: 'Llama',
    outputsToo: true,
    eu: true,
  }, 'Llama 4 models are natively multimodal: the Llama 4 AUP withholds the §1(a) grant from EU-domiciled individuals and companies'),
  {
    id: 'gemma',
    spdx: 'LicenseRef-gemma',
    name: 'Gemma Terms of Use',
    category: 'model-community',
    hubIds: ['gemma'],
    licenseNames: ['gemma', 'gemma-terms-of-use'],
    textFile: 'gemma.txt',
    commercialUse: true,
    researchOnly: false,
    acceptableUse: { url: 'https://ai.google.dev/gemma/prohibited_use_policy', mutable: true, clause: c('§3.2 Use Restrictions', 'for the restricted uses set forth in the Gemma Prohibited Use Policy … which is hereby incorporated by reference') },
    obligations: [
      { kind: 'acceptable-use', text: 'Do not use Gemma for the uses in the Gemma Prohibited Use Policy (incorporated by reference; Google may update it) or against applicable law', clause: c('§3.2', 'You must not use any of the Gemma Services: for the restricted uses set forth in the Gemma Prohibited Use Policy') },
      { kind: 'pass-through', text: 'Include the §3.2 use restrictions as an enforceable provision in any agreement governing use or distribution of Gemma or Model Derivatives (incl. distillation from outputs) and notify subsequent users', clause: c('§3.1', 'You must include the use restrictions referenced in Section 3.2 as an enforceable provision in any agreement') },
      { kind: 'redistribution', text: 'Give all third-party recipients a copy of the Gemma Terms of Use; mark modified files', clause: c('§3.1', 'You must provide all third party recipients of Gemma or Model Derivatives a copy of this Agreement') },
      { kind: 'attribution', text: 'Distributions (other than a hosted service) carry a "Notice" text file: "Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms"', clause: c('§3.1', 'accompanied by a "Notice" text file that contains the following notice') },
      { kind: 'remote-restriction', text: 'Google may restrict (remotely or otherwise) usage it reasonably believes violates the terms', clause: c('§3.2', 'Google reserves the right to restrict (remotely or otherwise) usage') },
      { kind: 'governing-law', text: 'California law', clause: c('§4.6', 'governed by the laws of the State of California') },
    ],
    verified: true,
    note: 'The KB text is a third-party mirror of the Gemma Terms of Use (last modified March 24, 2025)',
    source: 'benkulcsar/llamachat GEMMA_TERMS_OF_USE.txt (mirror)',
  },
  {
    id: 'tongyi-qianwen',
    spdx: 'LicenseRef-tongyi-qianwen',
    name: 'Tongyi Qianwen LICENSE AGREEMENT',
    category: 'model-community',
    hubIds: [],
    licenseNames: ['tongyi-qianwen', 'tongyi-qianwen-license', 'tongyi-qianwen-license-agreement'],
    textFile: 'tongyi-qianwen.txt',
    commercialUse: true,
    researchOnly: false,
    threshold: {
      monthlyActiveUsers: 100_000_000,
      appliesTo: ['commercial', 'internal'],
      clause: c('§4 Restrictions', 'If you are commercially using the Materials, and your product or service has more than 100 million monthly active users, You shall request a license from Us'),
    },
    obligations: [
      { kind: 'user-threshold', text: 'Commercial use by a product or service with more than 100 million monthly active users requires a license from Alibaba Cloud', clause: c('§4', 'more than 100 million monthly active users, You shall request a license from Us') },
      { kind: 'redistribution', text: 'Give recipients a copy of the agreement; mark modified files', clause: c('§3.a–b', 'You shall give any other recipients of the Materials or derivative works a copy of this Agreement') },
      { kind: 'attribution', text: 'Keep in a "Notice" text file: "Tongyi Qianwen is licensed under the Tongyi Qianwen LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved."', clause: c('§3.c', 'retain in all copies of the Materials that You distribute the following attribution notices within a "Notice" text file') },
      { kind: 'outputs', text: 'Do not use the Materials or their outputs to improve any other large language model (excluding Tongyi Qianwen and its derivatives)', clause: c('§5.b', 'You can not use the Materials or any output therefrom to improve any other large language model') },
      { kind: 'governing-law', text: 'Laws of China', clause: c('§9.a', 'governed by the laws of China') },
    ],
    verified: true,
    source: 'QwenLM/Qwen "Tongyi Qianwen LICENSE AGREEMENT"',
  },
  {
    id: 'tongyi-qianwen-research',
    spdx: 'LicenseRef-tongyi-qianwen-research',
    name: 'Tongyi Qianwen RESEARCH LICENSE AGREEMENT',
    category: 'research-only',
    hubIds: [],
    licenseNames: ['tongyi-qianwen-research', 'tongyi-qianwen-research-license', 'tongyi-qianwen-research-license-agreement'],
    textFile: 'tongyi-qianwen-research.txt',
    commercialUse: false,
    researchOnly: true,
    obligations: [
      { kind: 'field-of-use', text: 'Non-commercial use only: research or evaluation; commercial use requires a license from Alibaba Cloud', clause: c('§2.a–b, §1.i', 'FOR NON-COMMERCIAL PURPOSES ONLY … "Non-Commercial" shall mean for research or evaluation purposes only') },
      { kind: 'redistribution', text: 'Give recipients a copy of the agreement; mark modified files', clause: c('§3.a–b', 'You shall give any other recipients of the Materials or derivative works a copy of this Agreement') },
      { kind: 'attribution', text: 'Keep in a "Notice" text file: "Tongyi Qianwen is licensed under the Tongyi Qianwen RESEARCH LICENSE AGREEMENT, Copyright (c) Alibaba Cloud. All Rights Reserved."', clause: c('§3.c', 'retain in all copies of the Materials that You distribute the following attribution notices') },
      { kind: 'outputs', text: 'Do not use the Materials or their outputs to improve any other large language model (excluding Tongyi Qianwen and its derivatives)', clause: c('§4.b', 'You can not use the Materials or any output therefrom to improve any other large language model') },
      { kind: 'governing-law', text: 'Laws of China', clause: c('§8.a', 'governed by the laws of China') },
    ],
    verified: true,
    source: 'QwenLM/Qwen "Tongyi Qianwen RESEARCH LICENSE AGREEMENT"',
  },
  {
    id: 'deepseek',
    spdx: 'LicenseRef-deepseek',
    name: 'DeepSeek License Agreement v1.0',
    category: 'responsible-ai',
    hubIds: [],
    licenseNames: ['deepseek', 'deepseek-license', 'deepseek-license-agreement'],
    textFile: 'deepseek.txt',
    commercialUse: true,
    researchOnly: false,
    obligations: [
      ...railObligations('§', `${RAIL_ATTACHMENT_A_COMMON}; no military use in any way; no inappropriate content under regulatory requirements`, 'DeepSeek may restrict (remotely or otherwise) usage in violation of the license'),
      { kind: 'governing-law', text: 'PRC law; courts of Hangzhou', clause: c('§14', 'governed and construed under PRC laws') },
    ],
    verified: true,
    source: 'deepseek-ai/DeepSeek-V3 LICENSE-MODEL',
  },
  {
    id: 'bigscience-bloom-rail-1.0',
    spdx: 'LicenseRef-bigscience-bloom-rail-1.0',
    name: 'BigScience RAIL License v1.0',
    category: 'responsible-ai',
    hubIds: ['bigscience-bloom-rail-1.0'],
    licenseNames: ['bigscience-bloom-rail-1.0', 'bloom-rail-1.0'],
    textFile: 'bigscience-bloom-rail-1.0.txt',
    commercialUse: true,
    researchOnly: false,
    obligations: [
      ...railObligations('§', `${RAIL_ATTACHMENT_A_COMMON}; no generated content without disclaiming that it is machine generated; no impersonation; no medical advice or medical results interpretation; no use for administration of justice, law enforcement, immigration or asylum processes`, 'BigScience may restrict (remotely or otherwise) usage in violation of the license'),
    ],
    verified: true,
    note: 'The KB text is a third-party mirror of the BigScience RAIL License v1.0 (May 19, 2022)',
    source: 'celdond/Moniker-Model BLOOMLICENSE.txt (mirror)',
  },
  {
    id: 'creativeml-openrail-m',
    spdx: 'LicenseRef-creativeml-openrail-m',
    name: 'CreativeML Open RAIL-M',
    category: 'responsible-ai',
    hubIds: ['creativeml-openrail-m'],
    licenseNames: ['creativeml-openrail-m'],
    textFile: 'creativeml-openrail-m.txt',
    commercialUse: true,
    researchOnly: false,
    obligations: [
      ...railObligations('§', `${RAIL_ATTACHMENT_A_COMMON}; no medical advice or medical results interpretation; no use for administration of justice, law enforcement, immigration or asylum processes`, 'The licensor may restrict (remotely or otherwise) usage in violation of the license'),
    ],
    verified: true,
    source: 'CompVis/stable-diffusion LICENSE',
  },
  // Known by id only: no canonical text in the KB. Terms from research notes (governance.md §7).
  ...['openrail', 'openrail++', 'bigscience-openrail-m', 'bigcode-openrail-m'].map((id): KbEntry => ({
    id,
    spdx: `LicenseRef-${id.replace(/\+/g, '-plus')}`, // "+" is not allowed in a LicenseRef
    name: `${id} (OpenRAIL family)`,
    category: 'responsible-ai',
    hubIds: [id],
    commercialUse: true,
    researchOnly: false,
    obligations: [
      { kind: 'field-of-use', text: 'Use-based restrictions (Attachment A) apply and must pass through to downstream agreements' },
    ],
    verified: false,
    note: id === 'openrail' ? 'The Hub id "openrail" names a family, not one text: the LICENSE file decides' : `No canonical ${id} text in the knowledge base: check the LICENSE file`,
    source: 'governance.md §7',
  })),
  {
    id: 'qwen',
    spdx: 'LicenseRef-qwen',
    name: 'Qwen LICENSE AGREEMENT',
    category: 'model-community',
    hubIds: [],
    licenseNames: ['qwen'],
    commercialUse: true,
    researchOnly: false,
    threshold: { monthlyActiveUsers: 100_000_000, appliesTo: ['commercial', 'internal'], clause: c('research notes', 'more than 100 million monthly active users … must request a license') },
    obligations: [{ kind: 'attribution', text: 'Display "Built with Qwen" or "Improved using Qwen" when materials or outputs create or improve a distributed model' }],
    verified: false,
    source: 'governance.md §7 (https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE)',
  },
  ...[
    ['qwen-research', 'Qwen RESEARCH LICENSE AGREEMENT'],
    ['mrl', 'Mistral AI Research License'],
    ['mnpl', 'Mistral AI Non-Production License'],
    ['fair-noncommercial-research-license', 'FAIR Noncommercial Research License'],
  ].map(([id, name]): KbEntry => ({
    id,
    spdx: `LicenseRef-${id}`,
    name,
    category: 'research-only',
    hubIds: id === 'fair-noncommercial-research-license' ? [id] : [],
    licenseNames: [id],
    commercialUse: false,
    researchOnly: true,
    obligations: [{ kind: 'field-of-use', text: 'Non-commercial research / non-production use only' }],
    verified: false,
    source: 'governance.md §5, §7',
  })),
];

/** Acceptable-use policy texts in the KB and the license they belong to. */
export const AUP_TEXTS: ReadonlyArray<{ file: string; license: string }> = MODEL_LICENSES.flatMap((e) => (e.acceptableUse?.textFile ? [{ file: e.acceptableUse.textFile, license: e.id }] : []));
