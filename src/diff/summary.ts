// The counts the one-line summary and the exit status come from.
import { historyCounts } from './history.js';
import { layersDiffer } from './layers.js';
import type { DiffReport, DiffSummary } from './types.js';

export function summarize(report: DiffReport): DiffReport {
  const s: DiffSummary = {
    layers: report.layers && { shared: report.layers.shared, oldOnly: report.layers.oldOnly, newOnly: report.layers.newOnly, recompressed: report.layers.recompressed },
    files: report.files && {
      added: report.files.filter((c) => c.status === 'A').length,
      removed: report.files.filter((c) => c.status === 'D').length,
      modified: report.files.filter((c) => c.status === 'M').length,
      typeChanged: report.files.filter((c) => c.status === 'T').length,
      sizeDelta: report.size?.delta ?? 0,
    },
    config: report.config && report.config.length,
    history: report.history && historyCounts(report.history),
    packages: report.packages && {
      added: report.packages.filter((p) => p.change === 'added').length,
      removed: report.packages.filter((p) => p.change === 'removed').length,
      changed: report.packages.filter((p) => p.change === 'changed').length,
    },
  };
  const differs =
    (report.layers !== null && layersDiffer(report.layers)) ||
    (report.files?.length ?? 0) > 0 ||
    (report.config?.length ?? 0) > 0 ||
    (report.history?.some((h) => h.op !== 'same') ?? false) ||
    (report.packages?.length ?? 0) > 0 ||
    (report.content !== null && !report.content.identical);
  return { ...report, summary: s, identical: !differs };
}
