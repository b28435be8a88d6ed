/*
 * What ties an entity to the Okta record it was made from: the record's Okta
 * id, the entity name (with the id as the fallback), and the annotations that
 * carry both. The default transformers and the entity builder both use these,
 * so that a default entity and a custom one prepared by the builder agree.
 */
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
} from '@backstage/catalog-model';
import {
  OKTA_GROUP_ID_ANNOTATION,
  OKTA_USER_ID_ANNOTATION,
  oktaLocationRef,
} from './constants';
import { normalizeEntityName } from './entityNames';
import { sanitizeProfileIdentifier } from './profileValues';
import type { OktaTransformerContext } from './types';

/** The kind of Okta record an entity is made from. */
export type OktaRecordKind = 'user' | 'group';

/**
 * The Okta id of a user or group record, or `undefined` when it has none
 * that can be written into annotations and location URLs (not a string,
 * blank, too long, or holding controls or whitespace inside).
 */
export function oktaIdOf(
  record: { id?: unknown } | undefined,
): string | undefined {
  return sanitizeProfileIdentifier(record?.id);
}

/**
 * The first candidate that normalises to a valid entity name, else the
 * normalised Okta id (a name written only in, say, CJK characters leaves
 * nothing usable); `undefined` when not even the id gives a name.
 */
export function entityNameOrOktaId(
  candidates: ReadonlyArray<unknown>,
  oktaId: string,
): string | undefined {
  for (const candidate of candidates) {
    const name = normalizeEntityName(
      typeof candidate === 'string' ? candidate : undefined,
    );
    if (name) {
      return name;
    }
  }
  return normalizeEntityName(oktaId);
}

/** The annotation holding the Okta id of an entity of this kind. */
export function oktaIdAnnotation(kind: OktaRecordKind): string {
  return kind === 'user' ? OKTA_USER_ID_ANNOTATION : OKTA_GROUP_ID_ANNOTATION;
}

/** `managed-by-location` and `managed-by-origin-location` of an Okta record. */
export function oktaLocationAnnotations(
  context: Pick<OktaTransformerContext, 'providerId' | 'orgUrl'>,
  kind: OktaRecordKind,
  oktaId: string,
): Record<string, string> {
  const location = oktaLocationRef(context.providerId, context.orgUrl, {
    kind,
    id: oktaId,
  });
  return {
    [ANNOTATION_LOCATION]: location,
    [ANNOTATION_ORIGIN_LOCATION]: location,
  };
}
