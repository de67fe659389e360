// The runtime config: keyed collections (env, labels, ports, volumes) compared per key, so one changed
// variable is one line; whole values (entrypoint, cmd, user...) compared as they are.
import type { ContainerConfig, ImageConfig } from '../spec/types.js';
import type { ChangeKind, ConfigChange } from './types.js';

type Field = ConfigChange['field'];

export function diffConfigs(oldConfig: ImageConfig, newConfig: ImageConfig): ConfigChange[] {
  const o = oldConfig.config ?? {};
  const n = newConfig.config ?? {};
  const out: ConfigChange[] = [];
  keyed(out, 'env', envMap(o.Env), envMap(n.Env));
  whole(out, 'entrypoint', list(o.Entrypoint), list(n.Entrypoint));
  whole(out, 'cmd', list(o.Cmd), list(n.Cmd));
  whole(out, 'user', text(o.User), text(n.User));
  whole(out, 'workdir', text(o.WorkingDir), text(n.WorkingDir));
  keyed(out, 'exposedPorts', setMap(o.ExposedPorts), setMap(n.ExposedPorts));
  keyed(out, 'volumes', setMap(o.Volumes), setMap(n.Volumes));
  keyed(out, 'labels', labelMap(o), labelMap(n));
  whole(out, 'stopSignal', text(o.StopSignal), text(n.StopSignal));
  whole(out, 'platform', platform(oldConfig), platform(newConfig));
  return out;
}

/** KEY=VALUE as a map; a later duplicate wins, as it does in the runtime's environment. */
export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of env ?? []) {
    const i = kv.indexOf('=');
    if (i < 0) m.set(kv, '');
    else m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

function labelMap(c: ContainerConfig): Map<string, string> {
  return new Map(Object.entries(c.Labels ?? {}).map(([k, v]) => [k, String(v)]));
}

/** ExposedPorts and Volumes are sets written as objects with empty values. */
function setMap(o: Record<string, object> | undefined): Map<string, string> {
  return new Map(Object.keys(o ?? {}).map((k) => [k, k]));
}

function list(v: string[] | null | undefined): string[] | null {
  return Array.isArray(v) ? v : null;
}

function text(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

function platform(c: ImageConfig): string {
  return [c.os, c.architecture, c.variant].filter(Boolean).join('/') + (c['os.version'] ? ` (${c['os.version']})` : '');
}

function keyed(out: ConfigChange[], field: Field, o: Map<string, string>, n: Map<string, string>): void {
  const keys = [...new Set([...o.keys(), ...n.keys()])].sort();
  const isSet = field === 'exposedPorts' || field === 'volumes';
  for (const key of keys) {
    const ov = o.get(key) ?? null;
    const nv = n.get(key) ?? null;
    if (ov === nv) continue;
    const change: ChangeKind = ov === null ? 'added' : nv === null ? 'removed' : 'changed';
    out.push(isSet ? { field, key, change, old: null, new: null } : { field, key, change, old: ov, new: nv });
  }
}

function whole(out: ConfigChange[], field: Field, o: string | string[] | null, n: string | string[] | null): void {
  if (JSON.stringify(o) === JSON.stringify(n)) return;
  const change: ChangeKind = o === null ? 'added' : n === null ? 'removed' : 'changed';
  out.push({ field, change, old: o, new: n });
}
