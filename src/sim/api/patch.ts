// The PATCH content types an apiserver accepts, applied to a stored object. Strategic merge is
// approximated by JSON merge patch (exact for maps, which is what rollout restarts and
// ConfigMap edits touch); server-side apply merges the intent and records the field manager.

import jsonpatch, { type Operation } from 'fast-json-patch';
import { parse } from 'yaml';
import { ApiError, errors } from './status.ts';

type Obj = Record<string, unknown>;

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim();
  switch (media) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      return undefined;
  }
}

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386: objects merge recursively, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    // Strategic-merge directives ($setElementOrder/…, $patch) have no merge-patch meaning.
    if (key.startsWith('$')) continue;
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export function parsePatchBody(type: PatchType, body: string): unknown {
  try {
    return type === 'apply' ? parse(body) : JSON.parse(body);
  } catch (e) {
    throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
  }
}

export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  try {
    return jsonpatch.applyPatch(structuredClone(target), ops as Operation[], true, true).newDocument;
  } catch (e) {
    if (e instanceof jsonpatch.JsonPatchError) {
      throw new ApiError(
        422,
        'Invalid',
        `the server rejected our request due to an error in our request: ${e.name}: ${e.message.split('\n')[0]}`,
      );
    }
    throw e;
  }
}
