// Door of the mirror room: copy verified versions by digest (folder or S3-compatible bucket); reads re-verify.
export { mirrorVersion, mirrorBackend, openMirrored, verifyMirror, type MirrorOptions, type MirrorResult, type MirrorVerifyResult, type MirrorProblem } from './mirror.ts';
export { FolderBackend, blobKey, manifestKey, type MirrorBackend } from './backend.ts';
export { S3Backend, parseS3Uri, signV4, uriEncode, type S3Config, type S3Credentials, type SignInput } from './s3.ts';
