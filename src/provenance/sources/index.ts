// Door of the sources room: bring a model version into quarantine from the Hub, a URL or disk.
export { fetchSource, listHubFiles, sourceKind, type HubListing, type FetchOptions, type FetchResult, type FetchProgress, type SourceKind } from './fetch.ts';
export { HubClient, parseHfUri, DEFAULT_HF_ENDPOINT, COMMIT_RE, type HfRef, type HubFileEntry } from './hf.ts';
export { type HttpOptions } from './http.ts';
