// The AdminService calls about capacity (admin.proto): the replicated settings (GetConfig's
// `settings`, SetConfig), namespace settings and figures (SetNamespaceConfig, ListNamespaces), the
// removal record (ListRemovals), and the capacity part of Status. Changes are proposed by the
// leader as `set-config` / `set-ns-config` commands after checking each value here, so a bad one
// is answered at once (KVC_INVALID_CONFIG) without a log write; the apply checks again, since two
// concurrent changes may be valid alone and not together.
import { NS_SETTING_KEYS, SETTING_KEYS, type NsSettingKey, type SettingKey } from '../codec/index.js';
import { parseByteSize } from '../config/index.js';
import type * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import type { ClusterNode } from '../node/index.js';
import { applySettingChanges, settingProblem, type ClusterSettings } from '../store/index.js';
import type { MemberContext } from './member-context.js';
import type {
  ClusterSettings as ClusterSettingsMessage,
  ListNamespacesResponse,
  ListRemovalsRequest__Output as ListRemovalsRequest,
  ListRemovalsResponse,
  NamespaceStatus as NamespaceStatusMessage,
  SetConfigRequest__Output as SetConfigRequest,
  SetConfigResponse,
  SetNamespaceConfigRequest__Output as SetNamespaceConfigRequest,
  SetNamespaceConfigResponse,
} from '../proto/index.js';
import { validateNamespace } from './validate.js';

const SIZE_KEYS: ReadonlySet<string> = new Set(['budgetBytes', 'quotaBytes']);

export function settingsMessage(settings: ClusterSettings): ClusterSettingsMessage {
  return { ...settings };
}

/** Parses a setting's text: sizes accept units (64MiB), the rest plain numbers. */
function parseSetting(key: SettingKey | NsSettingKey, text: string, scope: 'cluster' | 'namespace'): number {
  const value = SIZE_KEYS.has(key) ? parseByteSize(text) : text.trim() === '' ? undefined : Number(text);
  if (value === undefined || !Number.isFinite(value)) {
    throw new KvcError('KVC_INVALID_CONFIG', { detail: `${key}: ${JSON.stringify(text)} is not ${SIZE_KEYS.has(key) ? 'a size such as 64MiB' : 'a number'}` });
  }
  const problem = settingProblem(key, value, scope);
  if (problem !== undefined) throw new KvcError('KVC_INVALID_CONFIG', { detail: problem });
  return value;
}

function settingKey<K extends string>(key: string, keys: readonly K[]): K {
  if (!(keys as readonly string[]).includes(key)) {
    throw new KvcError('KVC_INVALID_CONFIG', { detail: `unknown key ${JSON.stringify(key)}; known: ${keys.join(', ')}` });
  }
  return key as K;
}

export async function setConfig(ctx: MemberContext, request: SetConfigRequest, call: { getDeadline(): grpc.Deadline }): Promise<SetConfigResponse> {
  const key = settingKey(request.key, SETTING_KEYS);
  const value = parseSetting(key, request.value, 'cluster');
  const node = ctx.requireLeader();
  // Checked against the current settings here (the watermarks' order) for a clear answer without
  // a log write; the apply checks again, against the settings as they are then.
  const next = applySettingChanges(node.store.settings(), [[key, value]]);
  if (typeof next === 'string') throw new KvcError('KVC_INVALID_CONFIG', { detail: next });
  const result = await node.propose({ op: 'set-config', changes: [[key, value]] }, ctx.timeoutMs(call));
  if (!result.ok) throw new KvcError(result.code, { detail: result.message });
  return { settings: settingsMessage(node.store.settings()) };
}

export async function setNamespaceConfig(ctx: MemberContext, request: SetNamespaceConfigRequest, call: { getDeadline(): grpc.Deadline }): Promise<SetNamespaceConfigResponse> {
  const ns = validateNamespace(request.namespace);
  const key = settingKey(request.key, NS_SETTING_KEYS);
  const value = parseSetting(key, request.value, 'namespace');
  const result = await ctx.requireLeader().propose({ op: 'set-ns-config', ns, changes: [[key, value]] }, ctx.timeoutMs(call));
  if (!result.ok) throw new KvcError(result.code, { detail: result.message });
  return {};
}

export function namespaceMessages(node: ClusterNode): NamespaceStatusMessage[] {
  const infos = new Map(node.store.namespaces().map((info) => [info.ns, info]));
  const names = new Set([...infos.keys(), ...node.lookupStatsNamespaces()]);
  return [...names].sort().map((ns) => {
    const info = infos.get(ns);
    const lookups = node.lookupStats(ns);
    return {
      namespace: ns,
      pages: info?.pages ?? 0,
      bytes: info?.bytes ?? 0,
      quotaBytes: info?.quotaBytes ?? 0,
      defaultTtlMs: info?.defaultTtlMs ?? 0,
      evictedPages: info?.evictedPages ?? 0,
      evictedBytes: info?.evictedBytes ?? 0,
      expiredPages: info?.expiredPages ?? 0,
      lookupKeys: lookups.keys,
      lookupHits: lookups.hits,
    };
  });
}

export function listNamespaces(ctx: MemberContext): ListNamespacesResponse {
  const node = ctx.requireNode();
  return { namespaces: namespaceMessages(node), appliedIndex: node.store.appliedIndex() };
}

export async function listRemovals(ctx: MemberContext, request: ListRemovalsRequest): Promise<ListRemovalsResponse> {
  const node = ctx.requireNode();
  const limit = request.limit === 0 ? Number.MAX_SAFE_INTEGER : request.limit;
  const { removals, oldestIndex, more } = await node.removals(request.fromIndex, limit);
  return {
    removals: removals.map((r) => ({ index: r.index, namespace: r.ns, key: r.key ?? new Uint8Array(0), reason: r.reason })),
    oldestIndex,
    appliedIndex: node.store.appliedIndex(),
    more,
  };
}
