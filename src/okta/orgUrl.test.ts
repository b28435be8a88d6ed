import {
  normaliseOktaOrgUrl,
  OktaOrgUrlError,
  orgHostOfAdminHost,
} from './orgUrl';
import { oktaLocationRef } from './constants';

describe('normaliseOktaOrgUrl', () => {
  it.each([
    ['https://ACME.okta.com', 'https://acme.okta.com'],
    ['https://acme.okta.com//', 'https://acme.okta.com'],
    ['  https://acme.oktapreview.com  ', 'https://acme.oktapreview.com'],
    ['https://sso.example.com', 'https://sso.example.com'],
  ])('normalises %j to %j', (value, url) => {
    expect(normaliseOktaOrgUrl(value)).toEqual({ url });
  });

  it('replaces an Admin Console host with the org host, on Okta domains only', () => {
    expect(normaliseOktaOrgUrl('https://acme-admin.okta.com/')).toEqual({
      url: 'https://acme.okta.com',
      adminHost: 'acme-admin.okta.com',
    });
    expect(
      normaliseOktaOrgUrl('https://Dev-123-Admin.oktapreview.com').url,
    ).toBe('https://dev-123.oktapreview.com');
    expect(orgHostOfAdminHost('login-admin.example.com')).toBeUndefined();
    expect(normaliseOktaOrgUrl('https://login-admin.example.com').url).toBe(
      'https://login-admin.example.com',
    );
  });

  it('refuses what is not an org URL, never echoing credentials', () => {
    const problem = (value: string, options = {}) => {
      let thrown: unknown;
      try {
        normaliseOktaOrgUrl(value, options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OktaOrgUrlError);
      return (thrown as Error).message;
    };
    expect(problem('acme.okta.com')).toMatch(/^is not a URL/);
    expect(problem('http://localhost:8080')).toMatch(/^must use https/);
    expect(
      normaliseOktaOrgUrl('http://localhost:8080/', { allowInsecureHttp: true })
        .url,
    ).toBe('http://localhost:8080');
    expect(problem('ftp://acme.okta.com', { allowInsecureHttp: true })).toMatch(
      /scheme "ftp:"/,
    );
    expect(problem('https://acme.okta.com/oauth2/default')).toMatch(
      /without a path/,
    );
    const withSecret = problem('https://admin:hunter2@acme.okta.com');
    expect(withSecret).toBe('must not contain credentials');
  });

  it('is what the location annotations use', () => {
    expect(
      oktaLocationRef('p', 'https://acme-admin.okta.com/', {
        kind: 'user',
        id: '00u1',
      }),
    ).toBe('okta:p:https://acme.okta.com/api/v1/users/00u1');
  });
});
