/*
 * The relations between the entities of one run: memberships (`memberOf`
 * and `members`, kept in agreement and pointing only at emitted entities)
 * and the group hierarchy (`parent` and `children`, cycles broken).
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { DEFAULT_NAMESPACE, type Entity } from '@backstage/catalog-model';
import {
  addToList,
  compareByOktaId,
  entityKey,
  listIds,
  type GroupRecord,
  type UserRecord,
} from './orgRecords';

/**
 * A reference as Backstage resolves relation fields: the bare name when the
 * target is in the referring entity's namespace, else `kind:namespace/name`.
 */
function relativeRef(
  kind: 'user' | 'group',
  target: Entity,
  from: Entity,
): string {
  const targetNamespace = target.metadata.namespace ?? DEFAULT_NAMESPACE;
  const fromNamespace = from.metadata.namespace ?? DEFAULT_NAMESPACE;
  // Called twice per membership: the common case without lower-casing.
  return targetNamespace === fromNamespace ||
    targetNamespace.toLowerCase() === fromNamespace.toLowerCase()
    ? target.metadata.name
    : `${kind}:${targetNamespace}/${target.metadata.name}`;
}

export function fillMemberships(
  users: UserRecord[],
  groups: GroupRecord[],
  membersByGroupId: Map<string, string[]>,
  logger: LoggerService,
) {
  const userByOktaId = new Map(users.map(record => [record.oktaId, record]));
  const groupByOktaId = new Map(groups.map(record => [record.oktaId, record]));
  // Lists, sorted and made unique at the end: with 400,000 memberships,
  // Sets cost several times the time (and memory) of this.
  const members = new Map<GroupRecord, string[]>();
  const memberOf = new Map<UserRecord, string[]>();
  const unknownUsers = new Set<string>();
  let droppedMemberships = 0;

  for (const [groupId, userIds] of membersByGroupId) {
    const group = groupByOktaId.get(groupId);
    if (!group) {
      // The group itself was skipped (and warned about) or never read.
      continue;
    }
    let groupMembers = members.get(group);
    if (!groupMembers) {
      groupMembers = [];
      members.set(group, groupMembers);
    }
    for (const userId of userIds) {
      const user = userByOktaId.get(userId);
      if (!user) {
        unknownUsers.add(userId);
        droppedMemberships++;
        continue;
      }
      groupMembers.push(relativeRef('user', user.entity, group.entity));
      addToList(
        memberOf,
        user,
        relativeRef('group', group.entity, user.entity),
      );
    }
  }

  for (const group of groups) {
    group.entity.spec.members = sortedUnique(members.get(group) ?? []);
  }
  for (const user of users) {
    user.entity.spec.memberOf = sortedUnique(memberOf.get(user) ?? []);
  }

  if (droppedMemberships > 0) {
    logger.warn(
      `Dropped ${droppedMemberships} group membership(s) of ${
        unknownUsers.size
      } Okta user(s) that are not among the emitted users: ${listIds([
        ...unknownUsers,
      ])}`,
    );
  }
}

export function fillHierarchy(
  groups: GroupRecord[],
  parentGroupAttribute: string | undefined,
  logger: LoggerService,
) {
  const parentOf = parentGroupAttribute
    ? parentsFromAttribute(groups, parentGroupAttribute, logger)
    : parentsFromTransformer(groups);
  breakCycles(groups, parentOf, logger);

  const children = new Map<GroupRecord, string[]>();
  for (const group of groups) {
    const parent = parentOf.get(group);
    if (parent) {
      group.entity.spec.parent = relativeRef(
        'group',
        parent.entity,
        group.entity,
      );
      addToList(
        children,
        parent,
        relativeRef('group', group.entity, parent.entity),
      );
    } else if (parentGroupAttribute) {
      delete group.entity.spec.parent;
    }
  }
  for (const group of groups) {
    group.entity.spec.children = [...new Set(children.get(group) ?? [])].sort();
  }
}

function parentsFromAttribute(
  groups: GroupRecord[],
  attribute: string,
  logger: LoggerService,
): Map<GroupRecord, GroupRecord> {
  const byOktaId = new Map(groups.map(record => [record.oktaId, record]));
  const byOktaName = new Map<string, GroupRecord[]>();
  for (const group of groups) {
    const name = group.source.profile?.name;
    if (typeof name === 'string') {
      addToList(byOktaName, name, group);
    }
  }

  const parentOf = new Map<GroupRecord, GroupRecord>();
  const missing: string[] = [];
  for (const group of [...groups].sort(compareByOktaId)) {
    const raw = group.source.profile?.[attribute];
    let value: string | undefined;
    if (typeof raw === 'string') {
      value = raw.trim();
    } else if (typeof raw === 'number') {
      value = String(raw);
    }
    if (raw !== undefined && raw !== null && value === undefined) {
      logger.warn(
        `Okta group ${group.oktaId} ("${group.entity.metadata.name}"): its "${attribute}" is not a single name or id; the group is a root`,
      );
      continue;
    }
    if (!value) {
      continue;
    }
    const parent =
      byOktaId.get(value) ??
      uniqueParentByName(group, value, byOktaName, attribute, logger);
    if (parent === null) {
      continue;
    }
    if (!parent) {
      missing.push(
        `${group.oktaId} ("${group.entity.metadata.name}", parent "${value.slice(0, 100)}")`,
      );
      continue;
    }
    parentOf.set(group, parent);
  }
  if (missing.length > 0) {
    logger.warn(
      `${missing.length} Okta group(s) name a parent in "${attribute}" that is not among the emitted groups; they are roots: ${listIds(
        missing,
      )}`,
    );
  }
  return parentOf;
}

/** `null` when the name is ambiguous (warned), `undefined` when absent. */
function uniqueParentByName(
  group: GroupRecord,
  name: string,
  byOktaName: Map<string, GroupRecord[]>,
  attribute: string,
  logger: LoggerService,
): GroupRecord | null | undefined {
  const candidates = byOktaName.get(name);
  if (!candidates) {
    return undefined;
  }
  if (candidates.length > 1) {
    logger.warn(
      `Okta group ${group.oktaId} ("${group.entity.metadata.name}"): its "${attribute}" names ${
        candidates.length
      } groups (${candidates
        .map(c => c.oktaId)
        .sort()
        .join(', ')}); use the parent's Okta id instead. The group is a root`,
    );
    return null;
  }
  return candidates[0];
}

/** A `spec.parent` from a custom transformer, when it names an emitted group. */
function parentsFromTransformer(
  groups: GroupRecord[],
): Map<GroupRecord, GroupRecord> {
  const byKey = new Map(
    groups.map(record => [entityKey(record.entity), record]),
  );
  const parentOf = new Map<GroupRecord, GroupRecord>();
  for (const group of groups) {
    const ref = group.entity.spec.parent;
    if (typeof ref !== 'string' || ref === '') {
      continue;
    }
    const match = /^(?:group:)?(?:([^/:]+)\/)?([^/:]+)$/i.exec(ref);
    if (!match) {
      continue;
    }
    const namespace =
      match[1] ?? group.entity.metadata.namespace ?? DEFAULT_NAMESPACE;
    const parent = byKey.get(`${namespace}/${match[2]}`.toLowerCase());
    if (parent) {
      parentOf.set(group, parent);
    }
  }
  return parentOf;
}

/**
 * Each group has at most one parent, so every cycle is a simple loop. In
 * each one, the group with the smallest Okta id loses its parent.
 */
function breakCycles(
  groups: GroupRecord[],
  parentOf: Map<GroupRecord, GroupRecord>,
  logger: LoggerService,
) {
  const done = new Set<GroupRecord>();
  for (const start of [...groups].sort(compareByOktaId)) {
    const path: GroupRecord[] = [];
    const onPath = new Set<GroupRecord>();
    let current: GroupRecord | undefined = start;
    while (current && !done.has(current) && !onPath.has(current)) {
      path.push(current);
      onPath.add(current);
      current = parentOf.get(current);
    }
    if (current && onPath.has(current)) {
      const cycle = path.slice(path.indexOf(current));
      const root = [...cycle].sort(compareByOktaId)[0];
      parentOf.delete(root);
      logger.warn(
        `Okta groups form a parent cycle: ${cycle
          .map(g => `${g.oktaId} ("${g.entity.metadata.name}")`)
          .join(
            ' -> ',
          )}; ${root.oktaId} ("${root.entity.metadata.name}") is made a root`,
      );
    }
    for (const group of path) {
      done.add(group);
    }
  }
}

/** The order of sort()'s default (UTF-16 code units), as a comparator. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Sorts `values` in place and drops repeats. */
function sortedUnique(values: string[]): string[] {
  // A comparator is several times faster than sort()'s default for strings.
  values.sort(compareStrings);
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    if (i === 0 || values[i] !== values[kept - 1]) values[kept++] = values[i];
  }
  values.length = kept;
  return values;
}
