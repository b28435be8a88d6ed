import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { OktaChangeSink } from './types';

/**
 * Replaces what the module does with the changes Okta's events name, for
 * every provider or per provider id. Internal for now: the module's own
 * sink (the incremental-sync state) is what adopters get; tests use this to
 * watch the hand-overs.
 *
 * @internal
 */
export interface OktaChangeSinkExtensionPoint {
  setChangeSink(sink: OktaChangeSink | Record<string, OktaChangeSink>): void;
}

/** @internal */
export const oktaChangeSinkExtensionPoint =
  createExtensionPoint<OktaChangeSinkExtensionPoint>({
    id: 'catalog.oktaOrgEntityProvider.changeSink',
  });

/** Whether a selection is one sink for every provider. */
export function isOneSink(
  selection: OktaChangeSink | Record<string, OktaChangeSink>,
): selection is OktaChangeSink {
  return typeof (selection as OktaChangeSink).changed === 'function';
}
