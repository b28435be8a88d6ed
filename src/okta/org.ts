/*
 * From Okta users and groups to the User and Group entities of one provider
 * run: transform and validate each record as the read hands it over (so the
 * Okta record can go at once and mapping overlaps with waiting for Okta),
 * then normalise names, resolve name collisions, fill in memberships and the
 * group hierarchy, so that what is committed is consistent, valid and sorted
 * (unchanged entities hash the same). This file builds; the identity rules
 * are in oktaIdentity.ts, names in entityNameCollisions.ts, relations in
 * orgRelations.ts and the catalog's checks in entityValidation.ts.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Entity, GroupEntity, UserEntity } from '@backstage/catalog-model';
import { ForwardedError } from '@backstage/errors';
import type { OktaGroup, OktaUser } from './client/types';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './defaultTransformers';
import {
  compareUsersBySeniority,
  resolveNameCollisions,
  sortByName,
} from './entityNameCollisions';
import { validationProblem } from './entityValidation';
import {
  entityNameOrOktaId,
  oktaIdAnnotation,
  oktaIdOf,
  oktaLocationAnnotations,
  type OktaRecordKind,
} from './oktaIdentity';
import {
  compareByOktaId,
  listIds,
  type GroupRecord,
  type UserRecord,
} from './orgRecords';
import { fillHierarchy, fillMemberships } from './orgRelations';
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

/** What was left out of one kind, for the warnings at the end of the run. */
class LeftOut {
  withoutId = 0;
  readonly duplicates: string[] = [];
  readonly noEntity: string[] = [];
  /** Okta id -> why its entity cannot be used. */
  readonly invalid = new Map<string, string>();

  /** Logs what was left out among the records `isSelected` keeps. */
  report(
    kind: OktaRecordKind,
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
      logger.warn(
        `Skipped Okta ${kind} ${oktaId}: ${this.invalid.get(oktaId)}`,
      );
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
  /** Adds not yet settled, so that build() waits for every one. */
  private readonly adding = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: BuildOrgEntitiesOptions) {}

  /**
   * Maps an Okta user now and resolves once it is mapped, so the caller's
   * Okta record can go as soon as this resolves: nothing waits in a queue. Rejects with the transformer's error when it throws, and
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
   * @param selectedGroupIds - when given, only these groups are emitted:
   *   groups added but then found deleted in Okta are dropped
   */
  async build(
    membersByGroupId: Map<string, string[]>,
    selectedUserIds?: ReadonlySet<string>,
    selectedGroupIds?: ReadonlySet<string>,
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
    const groups = selectedGroupIds
      ? this.groups.filter(record => selectedGroupIds.has(record.oktaId))
      : this.groups;
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
    kind: OktaRecordKind,
    source: { id?: unknown },
    transformer: () => E | undefined | Promise<E | undefined>,
    custom: boolean,
  ): Promise<{ oktaId: string; entity: E } | undefined> {
    const oktaId = this.admit(kind, source);
    if (!oktaId) return undefined;
    const entity = await this.transform(kind, oktaId, transformer, custom);
    if (!entity || !(await this.prepare(kind, oktaId, entity)))
      return undefined;
    return { oktaId, entity };
  }

  /** The record's Okta id, or undefined (noted) when it has none or was seen. */
  private admit(
    kind: OktaRecordKind,
    source: { id?: unknown },
  ): string | undefined {
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
    kind: OktaRecordKind,
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
    kind: OktaRecordKind,
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
      this.leftOut[kind].invalid.set(
        oktaId,
        `its entity is not valid: ${problem}`,
      );
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
