/*
 * How a set-up report reads on a terminal, and as data.
 */
import type { Entity } from '@backstage/catalog-model';
import type { OktaSetupReport, OktaSetupStepStatus } from './types';

const SYMBOLS: Record<OktaSetupStepStatus, string> = {
  passed: '✔',
  failed: '✖',
  warning: '⚠',
  skipped: '–',
};

/** The report as lines for a terminal: one line per step, then detail and fix. */
export function formatOktaSetupReport(report: OktaSetupReport): string {
  const lines = [
    `Okta provider "${report.providerId}" (${report.orgUrl}, ${
      report.auth === 'privateKey'
        ? 'API Services app with a private key'
        : 'SSWS API token'
    })`,
  ];
  for (const step of report.steps) {
    lines.push(
      `  ${SYMBOLS[step.status]} ${step.title}${step.status === 'skipped' ? ' (skipped)' : ''}`,
    );
    lines.push(`      ${step.detail}`);
    if (step.fix && step.status !== 'passed')
      lines.push(`      Fix: ${step.fix}`);
    for (const note of step.notes ?? []) lines.push(`      Note: ${note}`);
  }
  const count = (status: OktaSetupStepStatus) =>
    report.steps.filter(step => step.status === status).length;
  lines.push(
    `  ${report.ok ? 'OK' : 'FAILED'}: ${count('passed')} passed, ${count('failed')} failed, ${count(
      'warning',
    )} warning(s), ${count('skipped')} skipped`,
  );
  return `${lines.join('\n')}\n`;
}

/** The report as plain data (for `--output yaml`): steps and counts, no entities. */
export function oktaSetupReportData(
  report: OktaSetupReport,
): Record<string, unknown> {
  return {
    provider: report.providerId,
    orgUrl: report.orgUrl,
    auth: report.auth,
    ok: report.ok,
    steps: report.steps.map(step => ({ ...step })),
    ...(report.selection && {
      selection: {
        users: report.selection.users.length,
        groups: report.selection.groups.length,
        memberships: report.selection.memberships,
      },
    }),
  };
}

/** The entities of a dry run: users then groups, the first `limit` (all without). */
export function dryRunEntities(
  report: OktaSetupReport,
  limit?: number,
): Entity[] {
  if (!report.selection) return [];
  const all: Entity[] = [...report.selection.users, ...report.selection.groups];
  return limit === undefined ? all : all.slice(0, limit);
}
