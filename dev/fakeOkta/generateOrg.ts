/*
 * Deterministic org generation for tests and the benchmark, and a small
 * hand-written demo org for the dev backend.
 */
import {
  FakeOrg,
  OktaGroupType,
  OktaUserProfile,
  OktaUserStatus,
} from './FakeOrg';
import { mulberry32, oktaId } from './random';

export interface GenerateOrgOptions {
  seed: number;
  users: number;
  /** Groups including the BUILT_IN "Everyone" group. */
  groups: number;
  /** Mean groups per user, "Everyone" included; default 10. */
  averageGroupsPerUser?: number;
  /** Fraction of groups (besides Everyone) with no members; default 0.05. */
  emptyGroupShare?: number;
  /** Fraction of OKTA_GROUPs with a `parentGroup` attribute; default 0.3. */
  parentGroupShare?: number;
  /** Email/login domains; default example.com, example.org, corp.example.net. */
  domains?: string[];
  /** The generator's "now" (ms); all timestamps lie before it. Default 2025-01-01. */
  now?: number;
}

const FIRST_NAMES = [
  'Alice',
  'Bob',
  'Carol',
  'David',
  'Eve',
  'Frank',
  'Grace',
  'Heidi',
  'Ivan',
  'Judy',
  'Mallory',
  'Niaj',
  'Olivia',
  'Peggy',
  'Rupert',
  'Sybil',
  'Trent',
  'Victor',
  'Walter',
  'Zoë',
  'Łukasz',
  'José',
  'Renée',
  'Søren',
  'Ágnes',
  'Chloé',
  'Mónica',
  'Jürgen',
  'Priya',
  'Wei',
  'Aiko',
  'Fatima',
  'Mohammed',
  'Olga',
  'Siobhán',
  'Nguyễn',
  'Ahmet',
  'Ana',
  'John',
  'Maria',
  'James',
  'Linda',
  'Michael',
  'Sarah',
  'Kwame',
  'Ingrid',
  '太郎',
  '花子',
  'Дмитрий',
  'Σοφία',
];
const LAST_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Müller',
  'Schmidt',
  'Kowalski',
  'Nowak',
  'Rossi',
  'Dubois',
  'Andersen',
  "O'Brien",
  'Núñez',
  'Pérez',
  'Yılmaz',
  'Sato',
  'Suzuki',
  'Kim',
  'Lee',
  'Chen',
  'Singh',
  'Patel',
  'Ivanova',
  'Okafor',
  'Mensah',
  'Larsen',
  'van der Berg',
  'De la Cruz',
  'Åberg',
  '山田',
  '田中',
  'Петров',
  'Παπαδόπουλος',
  'Smith-Jones',
  'Taylor',
  'Anderson',
];
const DEPARTMENTS = [
  'Engineering',
  'Sales',
  'Marketing',
  'Finance',
  'Legal',
  'Support',
  'Operations',
  'Product',
  'Design',
  'People',
  'Security',
  'Data',
  'IT',
  'R&D',
  'Facilities',
];
const TEAM_WORDS = [
  'Platform',
  'Payments',
  'Identity',
  'Mobile',
  'Web',
  'Infra',
  'Growth',
  'Core',
  'Search',
  'Billing',
  'Analytics',
  'Tools',
  'Reliability',
  'Compliance',
  'Partners',
  'Onboarding',
  'Enterprise',
  'Commerce',
  'Messaging',
  'Équipe Paris',
  'München',
  'Tokyo',
];
const TITLES = [
  'Engineer',
  'Senior Engineer',
  'Staff Engineer',
  'Manager',
  'Director',
  'Analyst',
  'Designer',
  'Account Executive',
  'Specialist',
  'Intern',
  'VP',
  'Consultant',
];
const STATUS_WEIGHTS: Array<[OktaUserStatus, number]> = [
  ['ACTIVE', 0.85],
  ['DEPROVISIONED', 0.04],
  ['SUSPENDED', 0.02],
  ['LOCKED_OUT', 0.02],
  ['PASSWORD_EXPIRED', 0.02],
  ['PROVISIONED', 0.02],
  ['STAGED', 0.02],
  ['RECOVERY', 0.01],
];

const DAY = 24 * 3600 * 1000;

function asciiFold(value: string): string {
  return value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/ø/g, 'o')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}

/**
 * Generates an org deterministically from `seed`: realistic, awkward user
 * profiles and a skewed membership distribution (a few huge groups, many
 * small ones, some empty). Fast enough for 50,000 users and 5,000 groups.
 */
export function generateOrg(options: GenerateOrgOptions): FakeOrg {
  const rng = mulberry32(options.seed);
  const pick = <T>(list: readonly T[]): T =>
    list[Math.floor(rng() * list.length)];
  const now = options.now ?? Date.UTC(2025, 0, 1);
  const start = now - 5 * 365 * DAY;
  const iso = (ms: number) => new Date(Math.floor(ms)).toISOString();
  const domains = options.domains ?? [
    'example.com',
    'example.org',
    'corp.example.net',
  ];
  const userCount = Math.max(0, Math.floor(options.users));
  const groupCount = Math.max(1, Math.floor(options.groups));

  const org = new FakeOrg({
    seed: options.seed,
    clock: () => now,
    withoutEveryone: true,
  });

  // Ids sorted up front so that inserting them keeps the sorted indexes cheap.
  const makeIds = (prefix: string, count: number) => {
    const ids = new Set<string>();
    while (ids.size < count) ids.add(oktaId(prefix, rng));
    return [...ids].sort();
  };
  const userIds = makeIds('00u', userCount);
  const groupIds = makeIds('00g', groupCount);

  const usedLogins = new Set<string>();
  const activeIds: string[] = [];
  for (let i = 0; i < userCount; i++) {
    let status: OktaUserStatus;
    if (i < STATUS_WEIGHTS.length && userCount >= 20) {
      status = STATUS_WEIGHTS[(i * 3) % STATUS_WEIGHTS.length][0];
    } else {
      let r = rng();
      status = 'ACTIVE';
      for (const [s, w] of STATUS_WEIGHTS) {
        if (r < w) {
          status = s;
          break;
        }
        r -= w;
      }
    }
    const firstName = pick(FIRST_NAMES);
    const lastName = pick(LAST_NAMES);
    const domain = pick(domains);
    let local = `${asciiFold(firstName) || `user${i}`}.${asciiFold(lastName) || `n${i}`}`;
    // The same local part recurs across domains; logins stay unique per org.
    let suffix = 1;
    while (usedLogins.has(`${local}@${domain}`))
      local = `${local.replace(/\d+$/, '')}${++suffix}`;
    const email = `${local}@${domain}`;
    const notAnEmail = rng() < 0.02;
    const login = notAnEmail ? `${local.replace(/\./g, '_')}_${i}` : email;
    usedLogins.add(email);
    usedLogins.add(login);

    const profile: OktaUserProfile = { login, firstName, lastName };
    const r = rng();
    if (r < 0.015) delete profile.email;
    else if (r < 0.05) profile.email = `${local}@${pick(domains)}`;
    else profile.email = email;
    if (rng() < 0.03) profile.lastName = null;
    if (rng() < 0.01) profile.firstName = null;
    if (rng() < 0.6) {
      profile.displayName = `${firstName} ${profile.lastName ?? ''}`.trim();
    }
    const department = pick(DEPARTMENTS);
    if (rng() < 0.9) profile.department = department;
    if (rng() < 0.85) profile.title = pick(TITLES);
    if (rng() < 0.8) profile.employeeNumber = String(10000 + i);
    if (rng() < 0.5) profile.costCenter = `CC-${100 + Math.floor(rng() * 50)}`;
    if (rng() < 0.4)
      profile.githubUsername = `${asciiFold(firstName) || 'gh'}${Math.floor(rng() * 1000)}`;
    if (rng() < 0.3) profile.isContractor = rng() < 0.2;
    if (activeIds.length > 0 && rng() < 0.7)
      profile.managerId = pick(activeIds);
    if (rng() < 0.2) profile.mobilePhone = null;

    const created = start + rng() * (now - start - DAY);
    const neverActivated = status === 'STAGED' || status === 'PROVISIONED';
    const activated = neverActivated ? null : created + rng() * DAY;
    const statusChanged =
      status === 'STAGED'
        ? null
        : (activated ?? created) + rng() * (now - (activated ?? created));
    const lastLogin =
      neverActivated || rng() < 0.1
        ? null
        : Math.max(statusChanged ?? created, now - rng() * 90 * DAY);
    const lastUpdated = Math.max(
      statusChanged ?? created,
      created + rng() * (now - created),
    );
    org.addUser({
      id: userIds[i],
      status,
      created: iso(created),
      activated: activated === null ? null : iso(activated),
      statusChanged: statusChanged === null ? null : iso(statusChanged),
      lastLogin: lastLogin === null ? null : iso(lastLogin),
      lastUpdated: iso(lastUpdated),
      passwordChanged: neverActivated ? null : iso(activated ?? created),
      profile,
    });
    if (status !== 'DEPROVISIONED') activeIds.push(userIds[i]);
  }

  // Groups: one BUILT_IN, ~25% APP_GROUP, the rest OKTA_GROUP.
  const everyoneIndex = Math.floor(rng() * groupCount);
  const usedNames = new Set<string>(['Everyone']);
  const okta: Array<{ id: string; name: string }> = [];
  const parentShare = options.parentGroupShare ?? 0.3;
  for (let g = 0; g < groupCount; g++) {
    const id = groupIds[g];
    if (g === everyoneIndex) {
      org.addGroup({
        id,
        type: 'BUILT_IN',
        created: iso(start),
        lastUpdated: iso(start),
        lastMembershipUpdated: iso(now - rng() * DAY),
        profile: {
          name: 'Everyone',
          description: 'All users in your organization',
        },
      });
      continue;
    }
    const type: OktaGroupType = rng() < 0.25 ? 'APP_GROUP' : 'OKTA_GROUP';
    let name = `${pick(DEPARTMENTS)} ${pick(TEAM_WORDS)}`;
    if (usedNames.has(name)) name = `${name} ${g}`;
    usedNames.add(name);
    const created = start + rng() * (now - start - DAY);
    const profile: Record<string, unknown> & { name: string } =
      type === 'APP_GROUP'
        ? {
            name,
            ...(rng() < 0.7
              ? { description: `Imported from AD: ${name}` }
              : {}),
            samAccountName: name.replace(/[^A-Za-z0-9]/g, '_'),
            dn: `CN=${name},OU=Groups,DC=corp,DC=example,DC=net`,
            windowsDomainQualifiedName: `CORP\\${name.replace(/[^A-Za-z0-9]/g, '_')}`,
            externalId: Buffer.from(id).toString('base64'),
          }
        : { name, ...(rng() < 0.8 ? { description: `${name} team` } : {}) };
    if (type === 'OKTA_GROUP') {
      if (okta.length > 0 && rng() < parentShare)
        profile.parentGroup = pick(okta).name;
      if (rng() < 0.3)
        profile.costCenter = `CC-${100 + Math.floor(rng() * 50)}`;
      okta.push({ id, name });
    }
    org.addGroup({
      id,
      type,
      created: iso(created),
      lastUpdated: iso(created + rng() * (now - created)),
      lastMembershipUpdated: iso(created + rng() * (now - created)),
      profile,
    });
  }
  const everyoneId = groupIds[everyoneIndex];

  // Skewed (Zipf-like) group sizes over a random ranking of the other groups.
  const others = groupIds.filter((_, g) => g !== everyoneIndex);
  for (let i = others.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [others[i], others[j]] = [others[j], others[i]];
  }
  const emptyCount = Math.round(
    others.length * (options.emptyGroupShare ?? 0.05),
  );
  const sized = others.slice(0, others.length - emptyCount);
  const everyoneShare = userCount > 0 ? activeIds.length / userCount : 0;
  const target = Math.max(
    0,
    userCount * ((options.averageGroupsPerUser ?? 10) - everyoneShare),
  );
  const exponent = 1.1;
  let weightSum = 0;
  for (let r = 0; r < sized.length; r++)
    weightSum += 1 / Math.pow(r + 1, exponent);
  const scratch = new Uint32Array(userCount);
  for (let r = 0; r < sized.length && userCount > 0; r++) {
    const size = Math.min(
      userCount,
      Math.max(1, Math.round(target / weightSum / Math.pow(r + 1, exponent))),
    );
    const members: string[] = [];
    if (size * 4 < userCount) {
      const chosen = new Set<number>();
      while (chosen.size < size) chosen.add(Math.floor(rng() * userCount));
      for (const k of chosen) members.push(userIds[k]);
    } else {
      for (let k = 0; k < userCount; k++) scratch[k] = k;
      for (let k = 0; k < size; k++) {
        const j = k + Math.floor(rng() * (userCount - k));
        const t = scratch[k];
        scratch[k] = scratch[j];
        scratch[j] = t;
        members.push(userIds[scratch[k]]);
      }
    }
    org.loadMemberships(sized[r], members);
  }
  org.loadMemberships(everyoneId, activeIds);
  org.finishLoading();
  org.clock = Date.now;
  return org;
}

/**
 * A small demo company for the dev backend: 12 users, 7 groups with a
 * hierarchy expressed by the custom group attribute `parentGroup` (the
 * parent's name), a deprovisioned user and a suspended one.
 */
export function demoOrg(): FakeOrg {
  const t = (day: number) =>
    new Date(Date.UTC(2024, 0, 1) + day * DAY).toISOString();
  const org = new FakeOrg({
    seed: 7,
    clock: () => Date.UTC(2025, 0, 1),
    withoutEveryone: true,
  });
  org.addGroup({
    id: '00gdemo0everyone0001',
    type: 'BUILT_IN',
    created: t(0),
    profile: {
      name: 'Everyone',
      description: 'All users in your organization',
    },
  });
  const groups: Array<[string, string, string | undefined, string]> = [
    ['00gdemo0company00001', 'ACME Corp', undefined, 'The whole company'],
    ['00gdemo0engineering1', 'Engineering', 'ACME Corp', 'Builds the products'],
    [
      '00gdemo0platform0001',
      'Platform Team',
      'Engineering',
      'Runs the platform',
    ],
    [
      '00gdemo0frontend0001',
      'Frontend Team',
      'Engineering',
      'Web and mobile UIs',
    ],
    ['00gdemo0sales0000001', 'Sales', 'ACME Corp', 'Sells the products'],
  ];
  for (const [id, name, parent, description] of groups) {
    org.addGroup({
      id,
      created: t(1),
      profile: {
        name,
        description,
        ...(parent ? { parentGroup: parent } : {}),
      },
    });
  }
  org.addGroup({
    id: '00gdemo0adadmins0001',
    type: 'APP_GROUP',
    created: t(2),
    profile: {
      name: 'AD Domain Admins',
      description: 'Imported from Active Directory',
      samAccountName: 'Domain Admins',
      dn: 'CN=Domain Admins,CN=Users,DC=acme,DC=example',
      windowsDomainQualifiedName: 'ACME\\Domain Admins',
      externalId: 'ZGVtby1kb21haW4tYWRtaW5z',
    },
  });
  const users: Array<[string, OktaUserProfile, OktaUserStatus, string[]]> = [
    [
      '00udemo0alice0000001',
      {
        login: 'alice@acme.example',
        email: 'alice@acme.example',
        firstName: 'Alice',
        lastName: 'Anderson',
        displayName: 'Alice Anderson',
        title: 'CTO',
        department: 'Engineering',
      },
      'ACTIVE',
      ['00gdemo0company00001', '00gdemo0engineering1', '00gdemo0adadmins0001'],
    ],
    [
      '00udemo0bob000000001',
      {
        login: 'bob@acme.example',
        email: 'bob@acme.example',
        firstName: 'Bob',
        lastName: 'Brown',
        title: 'Platform Lead',
        department: 'Engineering',
        managerId: '00udemo0alice0000001',
      },
      'ACTIVE',
      ['00gdemo0platform0001'],
    ],
    [
      '00udemo0carol0000001',
      {
        login: 'carol@acme.example',
        email: 'carol@acme.example',
        firstName: 'Carol',
        lastName: 'Chen',
        title: 'Engineer',
        department: 'Engineering',
      },
      'ACTIVE',
      ['00gdemo0platform0001'],
    ],
    [
      '00udemo0zoe000000001',
      {
        login: 'zoe@acme.example',
        email: 'zoe@acme.example',
        firstName: 'Zoë',
        lastName: 'Dubois',
        displayName: 'Zoë Dubois',
        title: 'Frontend Lead',
        department: 'Engineering',
      },
      'ACTIVE',
      ['00gdemo0frontend0001'],
    ],
    [
      '00udemo0lukasz000001',
      {
        login: 'lukasz@acme.example',
        email: 'lukasz@acme.example',
        firstName: 'Łukasz',
        lastName: 'Kowalski',
        title: 'Engineer',
        department: 'Engineering',
      },
      'ACTIVE',
      ['00gdemo0frontend0001', '00gdemo0platform0001'],
    ],
    [
      '00udemo0yamada000001',
      {
        login: 'yamada@acme.example',
        email: 'yamada@acme.example',
        firstName: '太郎',
        lastName: '山田',
        displayName: '山田 太郎',
        title: 'Engineer',
        department: 'Engineering',
      },
      'ACTIVE',
      ['00gdemo0frontend0001'],
    ],
    [
      '00udemo0dave00000001',
      {
        login: 'dave@acme.example',
        email: 'dave@acme.example',
        firstName: 'Dave',
        lastName: 'Davis',
        title: 'Head of Sales',
        department: 'Sales',
      },
      'ACTIVE',
      ['00gdemo0sales0000001', '00gdemo0company00001'],
    ],
    [
      '00udemo0erin00000001',
      {
        login: 'erin@acme.example',
        email: 'erin@acme.example',
        firstName: 'Erin',
        lastName: null,
        title: 'Account Executive',
        department: 'Sales',
      },
      'ACTIVE',
      ['00gdemo0sales0000001'],
    ],
    [
      '00udemo0frank0000001',
      {
        login: 'frank.admin',
        email: 'frank@acme.example',
        firstName: 'Frank',
        lastName: 'Fischer',
        title: 'IT Admin',
      },
      'ACTIVE',
      ['00gdemo0adadmins0001'],
    ],
    [
      '00udemo0grace0000001',
      {
        login: 'grace@acme.example',
        firstName: 'Grace',
        lastName: 'Garcia',
        title: 'Contractor',
        isContractor: true,
      },
      'SUSPENDED',
      ['00gdemo0engineering1'],
    ],
    [
      '00udemo0heidi0000001',
      {
        login: 'heidi@acme.example',
        email: 'heidi@acme.example',
        firstName: 'Heidi',
        lastName: 'Hansen',
        title: 'Former engineer',
      },
      'DEPROVISIONED',
      ['00gdemo0platform0001'],
    ],
    [
      '00udemo0ivan00000001',
      {
        login: 'ivan@acme.example',
        email: 'ivan@acme.example',
        firstName: 'Ivan',
        lastName: 'Ivanov',
        title: 'New hire',
        department: 'Sales',
      },
      'STAGED',
      [],
    ],
  ];
  users.forEach(([id, profile, status, memberOf], i) => {
    org.addUser({
      id,
      status,
      created: t(10 + i),
      lastUpdated: t(20 + i),
      profile,
    });
    for (const groupId of memberOf) org.addMember(groupId, id);
  });
  org.clock = Date.now;
  return org;
}
