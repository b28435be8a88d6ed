import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createServiceAppKeys,
  demoOrg,
  FakeOkta,
  startFakeOkta,
} from './index';
import {
  apiGet,
  clientAssertion,
  dpopProof,
  getAccessToken,
  requestToken,
  TestKey,
  tokenForm,
} from './testing/fakeOktaClient';

describe('fake Okta DPoP', () => {
  let okta: FakeOkta;
  let appKey: TestKey;
  let dpopKey: TestKey;
  let tokenUrl: string;

  beforeAll(async () => {
    appKey = await createServiceAppKeys('RS256', 'app-key');
    dpopKey = await createServiceAppKeys('ES256', 'dpop-key');
    okta = await startFakeOkta({ org: demoOrg() });
    tokenUrl = `${okta.url}/oauth2/v1/token`;
    okta.addServiceApp({
      clientId: 'dpop-app',
      publicJwks: [appKey.publicJwk],
      scopes: ['okta.users.read', 'okta.groups.read'],
      requireDpop: true,
    });
    okta.addServiceApp({
      clientId: 'plain-app',
      publicJwks: [appKey.publicJwk],
      scopes: ['okta.users.read'],
    });
  });
  afterAll(() => okta.close());

  const assertion = (clientId = 'dpop-app') =>
    clientAssertion(appKey, clientId, tokenUrl);

  it('refuses a token request without a proof when the app requires DPoP', async () => {
    const res = await requestToken(okta.url, tokenForm(assertion()));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('challenges for a nonce, then issues a DPoP-bound token', async () => {
    const first = await requestToken(okta.url, tokenForm(assertion()), {
      DPoP: dpopProof(dpopKey, 'POST', tokenUrl),
    });
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const second = await requestToken(okta.url, tokenForm(assertion()), {
      DPoP: dpopProof(dpopKey, 'POST', tokenUrl, { nonce: nonce! }),
    });
    expect(second.status).toBe(200);
    expect(second.body.token_type).toBe('DPoP');
    const accessToken = second.body.access_token;
    const ok = await apiGet(`${okta.url}/api/v1/users?limit=3`, {
      accessToken,
      dpopKey,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(3);
  });

  it('refuses a wrong nonce and a proof for another URL', async () => {
    const wrongNonce = await requestToken(okta.url, tokenForm(assertion()), {
      DPoP: dpopProof(dpopKey, 'POST', tokenUrl, { nonce: 'stale' }),
    });
    expect(wrongNonce.body.error).toBe('use_dpop_nonce');
    const wrongHtu = await requestToken(okta.url, tokenForm(assertion()), {
      DPoP: dpopProof(dpopKey, 'POST', `${okta.url}/oauth2/v1/other`),
    });
    expect(wrongHtu.status).toBe(400);
    expect(wrongHtu.body.error).toBe('invalid_dpop_proof');
  });

  it('ignores a proof when the app does not require DPoP (as the Okta SDK always sends one)', async () => {
    const res = await requestToken(
      okta.url,
      tokenForm(assertion('plain-app'), 'okta.users.read'),
      {
        DPoP: dpopProof(dpopKey, 'POST', tokenUrl),
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
  });

  describe('API calls with a DPoP token', () => {
    let accessToken: string;
    let url: string;
    beforeAll(async () => {
      ({ accessToken } = await getAccessToken(okta.url, appKey, 'dpop-app', {
        dpopKey,
      }));
      url = `${okta.url}/api/v1/groups`;
    });
    const call = (headers: Record<string, string>, target = `${url}?limit=2`) =>
      fetch(target, { headers }).then(async r => ({
        status: r.status,
        text: await r.text(),
        www: r.headers.get('www-authenticate'),
      }));

    it('refuses a replayed proof: 400, an empty body, the reason in WWW-Authenticate', async () => {
      const proof = dpopProof(dpopKey, 'GET', url, { accessToken });
      expect(
        (await call({ authorization: `DPoP ${accessToken}`, dpop: proof }))
          .status,
      ).toBe(200);
      const again = await call({
        authorization: `DPoP ${accessToken}`,
        dpop: proof,
      });
      expect(again.status).toBe(400);
      expect(again.text).toBe('');
      expect(again.www).toMatch(/^DPoP /);
      expect(again.www).toContain('error="invalid_dpop_proof"');
      expect(again.www).toContain(
        'error_description="The DPoP proof JWT has already been used."',
      );
    });

    it('refuses a wrong ath, htu, htm, key or stale iat', async () => {
      const other = await createServiceAppKeys('ES256');
      const cases = [
        dpopProof(dpopKey, 'GET', url, { accessToken: 'another token' }),
        dpopProof(dpopKey, 'GET', `${okta.url}/api/v1/users`, { accessToken }),
        dpopProof(dpopKey, 'POST', url, { accessToken }),
        dpopProof(other, 'GET', url, { accessToken }),
        dpopProof(dpopKey, 'GET', url, {
          accessToken,
          claims: { iat: Math.floor(Date.now() / 1000) - 3600 },
        }),
        dpopProof(dpopKey, 'GET', url, { accessToken, header: { typ: 'JWT' } }),
      ];
      for (const proof of cases) {
        const res = await call({
          authorization: `DPoP ${accessToken}`,
          dpop: proof,
        });
        expect(res.status).toBe(400);
        expect(res.text).toBe('');
        expect(res.www).toContain('error="invalid_dpop_proof"');
      }
    });

    it('refuses the DPoP token used as a Bearer token (401) or without a proof (400)', async () => {
      const bearer = await call({ authorization: `Bearer ${accessToken}` });
      expect(bearer.status).toBe(401);
      expect(JSON.parse(bearer.text).errorCode).toBe('E0000011');
      const missing = await call({ authorization: `DPoP ${accessToken}` });
      expect(missing.status).toBe(400);
      expect(missing.text).toBe('');
      expect(missing.www).toContain(
        'error_description="The DPoP proof JWT header is missing."',
      );
    });

    it('compares htu with the path percent-decoded, as Okta does', async () => {
      const group = okta.org.groups()[0];
      const encoded = `${okta.url}/api/v1/groups/${encodeURIComponent(group.id).replace(/0/g, '%30')}`;
      const decoded = `${okta.url}/api/v1/groups/${group.id}`;
      // A proof for the decoded path fits a request to the encoded one, and back.
      const a = await call(
        {
          authorization: `DPoP ${accessToken}`,
          dpop: dpopProof(dpopKey, 'GET', decoded, { accessToken }),
        },
        encoded,
      );
      expect(a.status).toBe(200);
      const b = await call(
        {
          authorization: `DPoP ${accessToken}`,
          dpop: dpopProof(dpopKey, 'GET', encoded, { accessToken }),
        },
        decoded,
      );
      expect(b.status).toBe(200);
      const c = await call(
        {
          authorization: `DPoP ${accessToken}`,
          dpop: dpopProof(dpopKey, 'GET', `${decoded}x`, { accessToken }),
        },
        decoded,
      );
      expect(c.status).toBe(400);
    });

    it('compares htu without the query string', async () => {
      const res = await apiGet(
        `${url}?limit=1&search=${encodeURIComponent('type eq "OKTA_GROUP"')}`,
        { accessToken, dpopKey },
      );
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(1);
    });
  });

  it('can be switched on for an app that had it off', async () => {
    okta.updateServiceApp('plain-app', { requireDpop: true });
    const res = await requestToken(
      okta.url,
      tokenForm(assertion('plain-app'), 'okta.users.read'),
    );
    expect(res.body.error).toBe('invalid_dpop_proof');
    okta.updateServiceApp('plain-app', { requireDpop: false });
  });
});
