// Door of the mirror room: copy verified versions by digest; reads re-verify.
export { mirrorVersion, openMirrored, verifyMirror, type MirrorOptions, type MirrorResult, type MirrorVerifyResult, type MirrorProblem } from './mirror.ts';
