/*
 * From Okta users and groups to the User and Group entities of one provider
 * run: transform and validate each record as the read hands it over (so the
 * Okta record can go at once and mapping overlaps with waiting for Okta),
 * then normalise names, resolve name collisions, fill in memberships and the
 * group hierarchy, so that what is committed is consistent, valid and sorted
 * (unchanged entities hash the same).
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  DEFAULT_NAMESPACE,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  type Entity,
  type GroupEntity,
  type UserEntity,
} from '@backstage/catalog-model';
import { ForwardedError } from '@backstage/errors';
import type { OktaGroup, OktaUser } from './client/types';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './defaultTransformers';
import { OKTA_USER_ID_ANNOTATION } from './constants';
import { normalizeEntityName, withNameSuffix } from './entityNames';
import {
  entityNameOrOktaId,
  oktaIdAnnotation,
  oktaIdOf,
  oktaLocationAnnotations,
  type OktaRecordKind,
} from './oktaIdentity';
import { TimeSlicer } from './timeSlicer';
import type {
  OktaGroupTransformer,
  OktaOrgSnapshot,
  OktaTransformerContext,
  OktaUserTransformer,
} from './types';

/** Options of {@link buildOrgEntities} and {@link OrgEntityBuilder}. */
export interface BuildOrgEntitiesOptions {
  context: OktaTransformerContext;
  userTransformer: OktaUserTransformer;
  groupTransformer: OktaGroupTransformer;
  /** Group profile attribute naming the parent group, by Okta name or id. */
  parentGroupAttribute?: string;
  logger: LoggerService;
}

/** How many Okta ids a summarised warning lists before "and N more". */
const MAX_IDS_IN_WARNING = 20;

/**
 * One emitted user: its entity and what is kept of the Okta user, which is
 * only what ordering needs (the rest of the record is let go at once).
 */
interface UserRecord {
  oktaId: string;
  created: string;
  entity: UserEntity;
}
/** One emitted group and its Okta group (groups are few; the hierarchy reads them). */
interface GroupRecord {
  oktaId: string;
  source: OktaGroup;
  entity: GroupEntity;
}

const entityPolicy = EntityPolicies.allOf([
  new FieldFormatEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

type OrgKind = OktaRecordKind;

/** What was left out of one kind, for the warnings at the end of the run. */
class LeftOut {
  withoutId = 0;
  readonly duplicates: string[] = [];
  readonly noEntity: string[] = [];
  /** Okta id -> why its entity cannot be used. */
  readonly invalid = new Map<string, string>();

  /** Logs what was left out among the records `isSelected` keeps. */
  report(
    kind: OrgKind,
    logger: LoggerService,
    isSelected: (oktaId: string) => boolean = () => true,
  ): void {
    if (this.withoutId > 0) {
      logger.warn(`Skipped ${this.withoutId} Okta ${kind}(s) without an id`);
    }
    if (this.duplicates.length > 0) {
      logger.warn(
        `Okta listed ${this.duplicates.length} ${kind}(s) more than once; kept the first of each: ${listIds(
          this.duplicates.sort(),
        )}`,
      );
    }
    const noEntity = this.noEntity.filter(isSelected).sort();
    if (noEntity.length > 0) {
      logger.warn(
        `Skipped ${noEntity.length} Okta ${kind}(s) that the ${kind} transformer made no entity for: ${listIds(
          noEntity,
        )}`,
      );
    }
    for (const oktaId of [...this.invalid.keys()].filter(isSelected).sort()) {
      logger.warn(`Skipped Okta ${kind} ${oktaId}: ${this.invalid.get(oktaId)}`);
    }
  }
}

/**
 * Builds the User and Group entities of one run from Okta users and groups
 * handed to it as they are read, so that mapping overlaps with reading and
 * each Okta user is let go as soon as its entity is made.
 *
 * - Runs the transformers; a record they return nothing for is left out (one
 *   summarised warning listing the Okta ids). A transformer that throws fails
 *   the build, so that a bug never turns into deleted entities.
 * - Normalises entity names (a name with nothing usable falls back to the Okta
 *   id) and resolves collisions deterministically: of the records that want
 *   the same name, the oldest (users: by `created`, then id; groups: by id)
 *   keeps it and the others get `-<okta id>` appended, with a warning naming
 *   both Okta ids. No entity ever silently replaces another.
 * - Fills `spec.memberOf` of users and `spec.members` of groups from the
 *   memberships, so that they agree and refer only to emitted entities;
 *   memberships set by a transformer are replaced.
 * - With `parentGroupAttribute`, sets `spec.parent` and the parent's
 *   `spec.children`. A parent that cannot be found, or a cycle, is a warning
 *   and the group becomes a root. Without it, a `spec.parent` set by the
 *   transformer is kept, and `spec.children` is filled in for parents
 *   among the emitted groups.
 * - Leaves out, with a warning, any entity that would fail the catalog's
 *   validation, and returns both lists sorted by name.
 *
 * The result does not depend on the order records are added in.
 */
export class OrgEntityBuilder {
  private readonly users = new Map<string, UserRecord>();
  private readonly groups: GroupRecord[] = [];
  private readonly seen = { user: new Set<string>(), group: new Set<string>() };
  private readonly leftOut = { user: new LeftOut(), group: new LeftOut() };
  /** Mapping gives the event loop a turn every millisecond of work. */
  private readonly slicer = new TimeSlicer();
  /** Adds not yet settled, so that build() waits for every one. */
  private readonly adding = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: BuildOrgEntitiesOptions) {}

  /**
   * Maps an Okta user now and resolves once it is mapped (waiting first for
   * a turn of the event loop when this millisecond of mapping is spent), so
   * the caller's Okta record can go as soon as this resolves: nothing waits
   * in a queue. Rejects with the transformer's error when it throws, and
   * with that first error for every add after it.
   */
  addUser(user: OktaUser): Promise<void> {
    return this.add(() => this.mapUser(user));
  }

  /** Maps an Okta group now, as {@link OrgEntityBuilder.addUser}. */
  addGroup(group: OktaGroup): Promise<void> {
    return this.add(() => this.mapGroup(group));
  }

  private add(map: () => Promise<void>): Promise<void> {
    const adding = (async () => {
      await this.slicer.turn();
      if (this.failure) throw this.failure.error;
      try {
        await map();
      } catch (error) {
        this.failure ??= { error };
        throw error;
      }
    })();
    this.adding.add(adding);
    const forget = () => void this.adding.delete(adding);
    adding.then(forget, forget);
    return adding;
  }

  /**
   * Waits for any add still mapping, then resolves names, memberships and
   * the hierarchy, and logs what was left out. Rejects when any add failed.
   *
   * @param membersByGroupId - Okta group id -> Okta user ids of its members
   * @param selectedUserIds - when given, only these users are emitted (and
   *   warned about): users added but not selected are dropped silently
   */
  async build(
    membersByGroupId: Map<string, string[]>,
    selectedUserIds?: ReadonlySet<string>,
  ): Promise<{ users: UserEntity[]; groups: GroupEntity[] }> {
    await Promise.allSettled([...this.adding]);
    if (this.failure) throw this.failure.error;
    const { logger } = this.options;
    const isSelected = selectedUserIds
      ? (oktaId: string) => selectedUserIds.has(oktaId)
      : undefined;
    this.leftOut.user.report('user', logger, isSelected);
    this.leftOut.group.report('group', logger);

    const users = [...this.users.values()].filter(
      record => !isSelected || isSelected(record.oktaId),
    );
    const groups = this.groups;
    resolveNameCollisions('user', users, compareUsersBySeniority, logger);
    resolveNameCollisions('group', groups, compareByOktaId, logger);

    fillMemberships(users, groups, membersByGroupId, logger);
    fillHierarchy(groups, this.options.parentGroupAttribute, logger);

    return {
      users: sortByName(users.map(record => record.entity)),
      groups: sortByName(groups.map(record => record.entity)),
    };
  }

  private async mapUser(user: OktaUser): Promise<void> {
    const { userTransformer, context } = this.options;
    const mapped = await this.map(
      'user',
      user,
      () => userTransformer(user, context),
      userTransformer !== defaultUserTransformer,
    );
    if (mapped) {
      const created = typeof user.created === 'string' ? user.created : '';
      this.users.set(mapped.oktaId, { ...mapped, created });
    }
  }

  private async mapGroup(group: OktaGroup): Promise<void> {
    const { groupTransformer, context } = this.options;
    const mapped = await this.map(
      'group',
      group,
      () => groupTransformer(group, context),
      groupTransformer !== defaultGroupTransformer,
    );
    if (mapped) this.groups.push({ ...mapped, source: group });
  }

  /**
   * One record through admission (id, duplicates), its transformer and
   * preparation; undefined (noted for the warnings) when it yields no entity.
   *
   * @param custom - whether the transformer is an admin's (its output is copied)
   */
  private async map<E extends UserEntity | GroupEntity>(
    kind: OrgKind,
    source: { id?: unknown },
    transformer: () => E | undefined | Promise<E | undefined>,
    custom: boolean,
  ): Promise<{ oktaId: string; entity: E } | undefined> {
    const oktaId = this.admit(kind, source);
    if (!oktaId) return undefined;
    const entity = await this.transform(kind, oktaId, transformer, custom);
    if (!entity || !(await this.prepare(kind, oktaId, entity))) return undefined;
    return { oktaId, entity };
  }

  /** The record's Okta id, or undefined (noted) when it has none or was seen. */
  private admit(kind: OrgKind, source: { id?: unknown }): string | undefined {
    const oktaId = oktaIdOf(source);
    if (!oktaId) {
      this.leftOut[kind].withoutId++;
      return undefined;
    }
    if (this.seen[kind].has(oktaId)) {
      this.leftOut[kind].duplicates.push(oktaId);
      return undefined;
    }
    this.seen[kind].add(oktaId);
    return oktaId;
  }

  private async transform<E extends UserEntity | GroupEntity>(
    kind: OrgKind,
    oktaId: string,
    run: () => E | undefined | Promise<E | undefined>,
    copy: boolean,
  ): Promise<E | undefined> {
    let entity: E | undefined;
    try {
      entity = await run();
    } catch (error) {
      throw new ForwardedError(
        `The ${kind} transformer failed for Okta ${kind} ${oktaId}`,
        error,
      );
    }
    if (!entity) {
      this.leftOut[kind].noEntity.push(oktaId);
      return undefined;
    }
    // Copied so that the steps below never change an object a custom
    // transformer may hold on to. The default transformers build a new
    // object of plain strings on every call and keep nothing.
    return copy ? structuredClone(entity) : entity;
  }

  /**
   * Normalises the name, sets what the module relies on (Okta id and
   * location annotations, empty relations) and checks that the catalog would
   * accept the entity. False (noted) when it would not.
   */
  private async prepare(
    kind: OrgKind,
    oktaId: string,
    entity: UserEntity | GroupEntity,
  ): Promise<boolean> {
    const { context } = this.options;
    const metadata = (entity.metadata ?? {}) as Entity['metadata'];
    entity.metadata = metadata;
    const name = entityNameOrOktaId([metadata.name], oktaId);
    if (!name) {
      this.leftOut[kind].invalid.set(
        oktaId,
        'neither its entity name nor its id gives a valid name',
      );
      return false;
    }
    metadata.name = name;

    // A transformer may point the locations elsewhere; the Okta id is the
    // builder's, as memberships and the hierarchy are keyed by it.
    metadata.annotations = {
      ...oktaLocationAnnotations(context, kind, oktaId),
      ...metadata.annotations,
      [oktaIdAnnotation(kind)]: oktaId,
    };

    if (entity.kind === 'Group') {
      const spec = entity.spec ?? ({} as GroupEntity['spec']);
      entity.spec = spec;
      if (typeof spec.type !== 'string' || spec.type.trim() === '') {
        spec.type = context.groupType;
      }
      spec.children = [];
      spec.members = [];
    } else if (entity.kind === 'User') {
      const spec = entity.spec ?? ({} as UserEntity['spec']);
      entity.spec = spec;
      spec.memberOf = [];
    }

    const problem = await validationProblem(kind, entity);
    if (problem) {
      this.leftOut[kind].invalid.set(oktaId, `its entity is not valid: ${problem}`);
      return false;
    }
    return true;
  }
}

/**
 * Builds the User and Group entities of one run from a complete snapshot;
 * see {@link OrgEntityBuilder} for what it does.
 */
export async function buildOrgEntities(
  snapshot: OktaOrgSnapshot,
  options: BuildOrgEntitiesOptions,
): Promise<{ users: UserEntity[]; groups: GroupEntity[] }> {
  const builder = new OrgEntityBuilder(options);
  for (const group of snapshot.groups) {
    await builder.addGroup(group);
  }
  for (const user of snapshot.users) {
    await builder.addUser(user);
  }
  return builder.build(snapshot.membersByGroupId);
}

let validationPrepared: Promise<void> | undefined;

/**
 * Compiles the catalog's entity validators (about 60 ms of CPU, once per
 * process) by validating one sample user and group. The provider calls it
 * when it connects, so that a sync never spends that time between Okta's
 * answers; validation compiles them on first use otherwise.
 */
export function prepareEntityValidation(): Promise<void> {
  validationPrepared ??= (async () => {
    const annotations = { [OKTA_USER_ID_ANNOTATION]: '00u0' };
    await validationProblem('user', {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: 'sample', annotations },
      spec: { profile: { email: 'sample@example.com' }, memberOf: [] },
    });
    await validationProblem('group', {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'sample' },
      spec: { type: 'team', children: [], members: [] },
    });
  })();
  return validationPrepared;
}

async function validationProblem(
  kind: OrgKind,
  entity: Entity,
): Promise<string | undefined> {
  try {
    await entityPolicy.enforce(entity);
    const validator =
      kind === 'user'
        ? userEntityV1alpha1Validator
        : groupEntityV1alpha1Validator;
    if (!(await validator.check(entity))) {
      return `expected kind ${kind === 'user' ? 'User' : 'Group'}, got ${JSON.stringify(
        entity.kind,
      )}`;
    }
    return undefined;
  } catch (error) {
    // Messages may quote profile values; keep them to a readable size.
    const message = error instanceof Error ? error.message : String(error);
    return message.length > 300 ? `${message.slice(0, 299)}…` : message;
  }
}

/** Older users keep their names: a newcomer never renames an existing user. */
function compareUsersBySeniority(a: UserRecord, b: UserRecord): number {
  const createdA = a.created;
  const createdB = b.created;
  if (createdA !== createdB) {
    // Records without a creation time sort last.
    if (!createdA) return 1;
    if (!createdB) return -1;
    return createdA < createdB ? -1 : 1;
  }
  return compareByOktaId(a, b);
}

function compareByOktaId(a: { oktaId: string }, b: { oktaId: string }): number {
  if (a.oktaId === b.oktaId) return 0;
  return a.oktaId < b.oktaId ? -1 : 1;
}

function entityKey(entity: Entity): string {
  return `${entity.metadata.namespace ?? DEFAULT_NAMESPACE}/${entity.metadata.name}`.toLowerCase();
}

function resolveNameCollisions<R extends { oktaId: string; entity: Entity }>(
  kind: OrgKind,
  records: R[],
  compare: (a: R, b: R) => number,
  logger: LoggerService,
) {
  const claimants = new Map<string, R[]>();
  for (const record of records) {
    const key = entityKey(record.entity);
    const list = claimants.get(key);
    if (list) {
      list.push(record);
    } else {
      claimants.set(key, [record]);
    }
  }

  // Every first claimant keeps its name before any other name is given out,
  // so a suffixed name can never take a name someone holds outright.
  const taken = new Set(claimants.keys());
  const sortedKeys = [...claimants.keys()].sort();
  for (const key of sortedKeys) {
    const [keeper, ...others] = claimants.get(key)!.sort(compare);
    for (const other of others) {
      const wanted = other.entity.metadata.name;
      const idPart = normalizeEntityName(other.oktaId)!.slice(0, 32);
      let renamed = withNameSuffix(wanted, idPart);
      for (let n = 2; taken.has(entityKeyWithName(other.entity, renamed)); n++) {
        renamed = withNameSuffix(wanted, `${idPart}-${n}`);
      }
      taken.add(entityKeyWithName(other.entity, renamed));
      other.entity.metadata.name = renamed;
      logger.warn(
        `Okta ${kind}s ${keeper.oktaId} and ${other.oktaId} both map to the entity name "${wanted}"; ${keeper.oktaId} keeps it and ${other.oktaId} is named "${renamed}"`,
      );
    }
  }
}

function entityKeyWithName(entity: Entity, name: string): string {
  return `${entity.metadata.namespace ?? DEFAULT_NAMESPACE}/${name}`.toLowerCase();
}

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

function fillMemberships(
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
      addToList(memberOf, user, relativeRef('group', group.entity, user.entity));
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

function fillHierarchy(
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
      group.entity.spec.parent = relativeRef('group', parent.entity, group.entity);
      addToList(children, parent, relativeRef('group', group.entity, parent.entity));
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
      byOktaId.get(value) ?? uniqueParentByName(group, value, byOktaName, attribute, logger);
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
  const byKey = new Map(groups.map(record => [entityKey(record.entity), record]));
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
          .join(' -> ')}; ${root.oktaId} ("${root.entity.metadata.name}") is made a root`,
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

function addToList<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const existing = map.get(key);
  if (existing) {
    existing.push(value);
  } else {
    map.set(key, [value]);
  }
}

function sortByName<T extends Entity>(entities: T[]): T[] {
  return entities
    .map(entity => ({ entity, key: entityKey(entity) }))
    .sort((a, b) => {
      if (a.key === b.key) return 0;
      return a.key < b.key ? -1 : 1;
    })
    .map(({ entity }) => entity);
}

function listIds(ids: string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_WARNING).join(', ');
  return ids.length > MAX_IDS_IN_WARNING
    ? `${shown} and ${ids.length - MAX_IDS_IN_WARNING} more`
    : shown;
}
