/*
 * The module's metrics, through Backstage's MetricsService (an OpenTelemetry
 * meter, `backstage-plugin-catalog` for this module). Every number comes from
 * a sync's summary, recorded once per run whatever its outcome, so metrics,
 * logs and the summary never disagree. Names follow OpenTelemetry's
 * conventions (dot-separated namespaces, units in `unit`, not in the name);
 * every measurement carries the provider id. Attributes hold ids, outcomes and
 * endpoint keys only: never config values or secrets.
 */
import type {
  MetricsService,
  MetricsServiceCounter,
  MetricsServiceGauge,
  MetricsServiceHistogram,
} from '@backstage/backend-plugin-api/alpha';
import type { OktaSyncSummary } from '../sync/syncSummary';

/** The metric names, as the README lists them. */
export const OKTA_METRICS = {
  syncDuration: 'catalog.okta.sync.duration',
  syncEntities: 'catalog.okta.sync.entities',
  syncMemberships: 'catalog.okta.sync.memberships',
  syncLastApplied: 'catalog.okta.sync.last_applied',
  requests: 'catalog.okta.requests',
  rateLimited: 'catalog.okta.rate_limited',
  retries: 'catalog.okta.retries',
  memberListings: 'catalog.okta.sync.member_listings',
  usersRead: 'catalog.okta.sync.users_read',
  entitiesBuilt: 'catalog.okta.sync.entities_built',
  entitiesSent: 'catalog.okta.sync.entities_sent',
} as const;

/** The attribute names. */
export const OKTA_METRIC_ATTRIBUTES = {
  providerId: 'okta.provider.id',
  outcome: 'okta.sync.outcome',
  /** OpenTelemetry's attribute for the class of a failure. */
  errorType: 'error.type',
  entityKind: 'catalog.entity.kind',
  endpoint: 'okta.endpoint',
  statusClass: 'okta.response.status_class',
  /** `full` or `incremental`: what a run with sync state read. */
  readKind: 'okta.sync.read',
  /** `full` or `delta`: what an applied run sent the catalog. */
  mutation: 'okta.sync.mutation',
} as const;

const A = OKTA_METRIC_ATTRIBUTES;

/** From a 1-group dry run to a 50,000-user org under Okta's rate limits. */
const DURATION_BUCKETS_SECONDS = [
  0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600,
];

/** Records sync summaries as metrics. One per backend module; every provider shares it. */
export class OktaSyncMetrics {
  private readonly duration: MetricsServiceHistogram;
  private readonly entities: MetricsServiceGauge;
  private readonly memberships: MetricsServiceGauge;
  private readonly requests: MetricsServiceCounter;
  private readonly rateLimited: MetricsServiceCounter;
  private readonly retries: MetricsServiceCounter;
  private readonly memberListings: MetricsServiceCounter;
  private readonly usersRead: MetricsServiceCounter;
  private readonly entitiesBuilt: MetricsServiceCounter;
  private readonly entitiesSent: MetricsServiceCounter;
  /** Provider id -> Unix time (seconds) its last applied sync finished, in this process. */
  private readonly lastApplied = new Map<string, number>();

  constructor(metrics: MetricsService) {
    this.duration = metrics.createHistogram(OKTA_METRICS.syncDuration, {
      description:
        'Duration of an Okta org sync, by outcome (applied, refused by the deletion guard, failed with error.type)',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
    });
    this.entities = metrics.createGauge(OKTA_METRICS.syncEntities, {
      description: 'Entities the last applied Okta sync emitted, by kind',
      unit: '{entity}',
    });
    this.memberships = metrics.createGauge(OKTA_METRICS.syncMemberships, {
      description: 'Group memberships in the last applied Okta sync',
      unit: '{membership}',
    });
    this.requests = metrics.createCounter(OKTA_METRICS.requests, {
      description:
        'HTTP requests to Okta (retries included), by endpoint and response status class',
      unit: '{request}',
    });
    this.rateLimited = metrics.createCounter(OKTA_METRICS.rateLimited, {
      description: 'Okta answers 429 (rate or concurrency limit), by endpoint',
      unit: '{response}',
    });
    this.retries = metrics.createCounter(OKTA_METRICS.retries, {
      description:
        'Retries of Okta requests (429, 5xx, network, timeout, cut body)',
      unit: '{retry}',
    });
    this.memberListings = metrics.createCounter(OKTA_METRICS.memberListings, {
      description:
        'Group member listings read (all groups in a full read, only groups whose members changed in an incremental one), by okta.sync.read',
      unit: '{listing}',
    });
    this.usersRead = metrics.createCounter(OKTA_METRICS.usersRead, {
      description:
        'Users read from Okta (all in a full read, those Okta gave as changed in an incremental one), by okta.sync.read',
      unit: '{user}',
    });
    this.entitiesBuilt = metrics.createCounter(OKTA_METRICS.entitiesBuilt, {
      description:
        'User and Group entities a run built (whether or not it applied them)',
      unit: '{entity}',
    });
    this.entitiesSent = metrics.createCounter(OKTA_METRICS.entitiesSent, {
      description:
        'Entities an applied run sent the catalog (added or changed, plus removed refs in a delta), by okta.sync.mutation',
      unit: '{entity}',
    });
    metrics
      .createObservableGauge(OKTA_METRICS.syncLastApplied, {
        description:
          'Unix time when the last applied Okta sync of this provider finished (in this backend process)',
        unit: 's',
      })
      .addCallback(result => {
        for (const [providerId, seconds] of this.lastApplied) {
          result.observe(seconds, { [A.providerId]: providerId });
        }
      });
  }

  /** Records one run. `now` is when it finished (default: the clock). */
  record(summary: OktaSyncSummary, now: Date = new Date()): void {
    const provider = { [A.providerId]: summary.providerId };
    this.duration.record(summary.durationSeconds, {
      ...provider,
      [A.outcome]: summary.outcome,
      ...(summary.failureReason && { [A.errorType]: summary.failureReason }),
    });

    const { requests } = summary;
    for (const [endpoint, counts] of Object.entries(requests.byEndpoint)) {
      for (const [statusClass, n] of Object.entries(counts.byStatusClass)) {
        this.requests.add(n, {
          ...provider,
          [A.endpoint]: endpoint,
          [A.statusClass]: statusClass,
        });
      }
      // Zeros too: a series per provider and endpoint exists from its first sync.
      this.rateLimited.add(counts.rateLimited, {
        ...provider,
        [A.endpoint]: endpoint,
      });
    }
    this.retries.add(requests.retries, provider);

    if (summary.read) {
      const read = { ...provider, [A.readKind]: summary.read.kind };
      this.memberListings.add(summary.read.memberListings, read);
      this.usersRead.add(summary.read.usersRead, read);
    }

    if (summary.entities) {
      this.entitiesBuilt.add(
        summary.entities.users + summary.entities.groups,
        provider,
      );
    }
    if (summary.outcome === 'applied' && summary.mutation) {
      this.entitiesSent.add(summary.mutation.added + summary.mutation.removed, {
        ...provider,
        [A.mutation]: summary.mutation.type,
      });
    }

    if (summary.outcome === 'applied' && summary.entities) {
      this.entities.record(summary.entities.users, {
        ...provider,
        [A.entityKind]: 'User',
      });
      this.entities.record(summary.entities.groups, {
        ...provider,
        [A.entityKind]: 'Group',
      });
      this.memberships.record(summary.entities.memberships, provider);
      this.lastApplied.set(summary.providerId, now.getTime() / 1000);
    }
  }
}
